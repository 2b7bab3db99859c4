"""The persisted-operation manifest: every operation the frontends send, with its SHA-256 id.

Frontends keep their operations in ``schema/operations/*.graphql``. ``labs64 schema manifest``
writes ``schema/operations/manifest.json`` from them in the format of Apollo's persisted query
manifests (``format``, ``version``, ``operations`` with ``id``, ``name``, ``type`` and ``body``),
plus ``file`` and ``line`` so that reports can point at the operation's source.
"""

from __future__ import annotations

import json
from pathlib import Path

from labs64.settings import REPOSITORY_ROOT
from schema.documents import OperationDocument, OperationParseError, parse_operation_file

__all__ = [
    "MANIFEST_FORMAT",
    "OPERATIONS_DIR",
    "DEFAULT_MANIFEST_PATH",
    "ManifestError",
    "build_manifest",
    "collect_operations",
    "load_manifest",
    "render_manifest",
]

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
_MANIFEST_VERSION = 1

#: Folder of the frontends' operations, one or more named operations per ``.graphql`` file.
OPERATIONS_DIR = REPOSITORY_ROOT / "schema" / "operations"
DEFAULT_MANIFEST_PATH = OPERATIONS_DIR / "manifest.json"


class ManifestError(ValueError):
    """The operations or the manifest are invalid: a syntax error, a duplicate name, a bad id."""


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPOSITORY_ROOT))
    except ValueError:
        return str(path)


def collect_operations(directory: Path = OPERATIONS_DIR) -> list[OperationDocument]:
    """Parse every ``*.graphql`` file under ``directory``; operation names must be unique."""
    if not directory.is_dir():
        raise ManifestError(f"operations folder {directory} not found; create it with one .graphql file per frontend area")
    operations: list[OperationDocument] = []
    seen: dict[str, OperationDocument] = {}
    for path in sorted(directory.rglob("*.graphql")):
        try:
            parsed = parse_operation_file(path, _display_path(path))
        except OperationParseError as error:
            raise ManifestError(str(error)) from error
        for operation in parsed:
            if operation.name in seen:
                raise ManifestError(
                    f"operation name {operation.name!r} is used twice, in {seen[operation.name].location} "
                    f"and {operation.location}; rename one of them"
                )
            seen[operation.name] = operation
            operations.append(operation)
    return operations


def _manifest_entry(operation: OperationDocument) -> dict[str, object]:
    return {
        "id": operation.id,
        "name": operation.name,
        "type": operation.operation_type,
        "body": operation.body,
        "file": operation.file,
        "line": operation.line,
    }


def build_manifest(operations: list[OperationDocument]) -> dict[str, object]:
    """Return the manifest of ``operations`` as a JSON-ready dict, sorted by operation name."""
    entries = [_manifest_entry(operation) for operation in sorted(operations, key=lambda o: o.name)]
    return {"format": MANIFEST_FORMAT, "version": _MANIFEST_VERSION, "operations": entries}


def render_manifest(operations: list[OperationDocument]) -> str:
    return json.dumps(build_manifest(operations), indent=2) + "\n"


def load_manifest(path: Path = DEFAULT_MANIFEST_PATH) -> list[OperationDocument]:
    """Read a manifest and check that each id is the SHA-256 of its body."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ManifestError(f"manifest {path} not found; generate it with `labs64 schema manifest`") from error
    except json.JSONDecodeError as error:
        raise ManifestError(f"manifest {path} is not valid JSON: {error}") from error

    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT or not isinstance(raw.get("operations"), list):
        raise ManifestError(
            f"manifest {path} is not a persisted query manifest: expected an object with "
            f'"format": "{MANIFEST_FORMAT}" and an "operations" list'
        )

    operations = []
    for index, entry in enumerate(raw["operations"]):
        try:
            operation = OperationDocument(
                name=str(entry["name"]),
                operation_type=str(entry["type"]),
                body=str(entry["body"]),
                origin="persisted",
                file=entry.get("file"),
                line=entry.get("line"),
            )
        except (KeyError, TypeError) as error:
            raise ManifestError(
                f"manifest {path}: operations[{index}] is invalid ({error!r}); regenerate it with `labs64 schema manifest`"
            ) from error
        if operation.id != entry.get("id"):
            raise ManifestError(
                f"manifest {path}: operation {operation.name!r} has id {entry.get('id')!r}, but its body hashes "
                f"to {operation.id}; regenerate the manifest with `labs64 schema manifest`"
            )
        operations.append(operation)
    return operations
