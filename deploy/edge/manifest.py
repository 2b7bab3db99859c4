"""Build the persisted operation manifest that the edge Worker serves and caches.

Each ``operations/*.graphql`` file contains one named operation. A first-line comment
``# cache: SECONDS`` sets how long the edge may share its response (0: never cached). The
manifest maps the SHA-256 of each document, the id clients send, to the document, its name,
its type and its cache lifetime.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse

from schema.composition import write_text_atomic

__all__ = ["OPERATIONS_DIR", "MANIFEST_PATH", "ManifestError", "PersistedOperation", "build_manifest", "load_operations", "write_manifest"]

OPERATIONS_DIR = Path(__file__).with_name("operations")
MANIFEST_PATH = OPERATIONS_DIR / "manifest.json"

_CACHE_DIRECTIVE = re.compile(r"^#\s*cache:\s*(\S+)\s*$")


class ManifestError(Exception):
    """An operation file is invalid: not one named operation, or no valid cache comment."""


@dataclass(frozen=True)
class PersistedOperation:
    """One persisted operation: its document, exactly as hashed, and how long the edge caches it."""

    name: str
    type: str
    document: str
    cache_seconds: int
    source: Path

    @property
    def id(self) -> str:
        return hashlib.sha256(self.document.encode()).hexdigest()


def _read_operation(path: Path) -> PersistedOperation:
    lines = path.read_text().splitlines()
    match = _CACHE_DIRECTIVE.match(lines[0]) if lines else None
    if match is None:
        raise ManifestError(f"{path}: the first line must be `# cache: SECONDS` (0 for never cached)")
    try:
        cache_seconds = int(match.group(1))
    except ValueError:
        cache_seconds = -1
    if cache_seconds < 0:
        raise ManifestError(f"{path}: invalid cache lifetime {match.group(1)!r}; expected whole seconds, 0 or more")

    document = "\n".join(lines[1:]).strip() + "\n"
    try:
        parsed = parse(document)
    except GraphQLSyntaxError as error:
        raise ManifestError(f"{path}: {error.message} at line {error.locations[0].line + 1 if error.locations else '?'}") from error
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        raise ManifestError(f"{path}: expected exactly one named operation, found {len(operations)} operation(s)")
    operation = operations[0]
    kind = operation.operation.value
    if cache_seconds and kind != "query":
        raise ManifestError(f"{path}: {operation.name.value} is a {kind}; only queries may be cached, set `# cache: 0`")
    return PersistedOperation(operation.name.value, kind, document, cache_seconds, path)


def load_operations(directory: Path = OPERATIONS_DIR) -> list[PersistedOperation]:
    """Read every ``*.graphql`` file of ``directory``; raise ManifestError on an invalid or duplicate one."""
    operations = [_read_operation(path) for path in sorted(Path(directory).glob("*.graphql"))]
    seen: dict[str, Path] = {}
    for operation in operations:
        if operation.name in seen:
            raise ManifestError(f"operation {operation.name} is defined twice: in {seen[operation.name]} and {operation.source}")
        seen[operation.name] = operation.source
    return operations


def build_manifest(operations: list[PersistedOperation]) -> dict[str, object]:
    return {
        "version": 1,
        "operations": {
            operation.id: {
                "name": operation.name,
                "type": operation.type,
                "document": operation.document,
                "cacheSeconds": operation.cache_seconds,
            }
            for operation in operations
        },
    }


def write_manifest(directory: Path = OPERATIONS_DIR, path: Path = MANIFEST_PATH) -> dict[str, object]:
    """Write the manifest of ``directory``'s operations to ``path`` and return it."""
    manifest = build_manifest(load_operations(directory))
    write_text_atomic(Path(path), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
