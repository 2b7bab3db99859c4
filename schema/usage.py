"""Recorded operation usage: which operations clients actually sent, and which fields they touched.

The store is a JSON-lines file, one observation per line, so that several writers can append
without coordination and the file can be inspected with ordinary tools. Reading merges the
observations by operation hash. Each line holds::

    {"hash": "<sha256 of body>", "name": "UserProfile", "client": "web", "body": "query ...",
     "coordinates": ["Query.user", "User.email", ...], "seen_at": "2026-12-04T21:00:00+00:00", "count": 1}
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from graphql import GraphQLSchema

from labs64.settings import PlatformSettings
from schema.documents import OperationDocument, operation_coordinates

__all__ = ["UsageError", "UsageRecord", "UsageStore", "default_usage_path"]


class UsageError(ValueError):
    """The usage store contains a line that is not a usage record."""


def default_usage_path(settings: PlatformSettings) -> Path:
    """Return where the platform keeps recorded usage: ``<data dir>/schema/operation-usage.jsonl``."""
    return settings.data_dir / "schema" / "operation-usage.jsonl"


@dataclass(frozen=True)
class UsageRecord:
    """One operation as seen by clients, merged over all its observations."""

    hash: str
    name: str
    body: str
    coordinates: frozenset[str]
    clients: frozenset[str]
    count: int
    last_seen: str

    def as_operation(self) -> OperationDocument:
        return OperationDocument(
            name=self.name,
            operation_type=self.body.lstrip().split(" ", 1)[0] if self.body else "query",
            body=self.body,
            origin="recorded",
            recorded_coordinates=self.coordinates,
        )


class UsageStore:
    """A JSON-lines file of operation observations."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def record(
        self,
        operations: Iterable[OperationDocument],
        schema: GraphQLSchema | None = None,
        client: str = "unknown",
        count: int = 1,
    ) -> int:
        """Append one observation per operation; with ``schema``, the fields it uses are stored too.

        Returns the number of observations written.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        lines = []
        for operation in operations:
            coordinates = sorted(operation_coordinates(operation, [schema])) if schema is not None else []
            lines.append(
                json.dumps(
                    {
                        "hash": operation.id,
                        "name": operation.name,
                        "client": client,
                        "body": operation.body,
                        "coordinates": coordinates,
                        "seen_at": now,
                        "count": count,
                    }
                )
            )
        if not lines:
            return 0

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as store:
            # An exclusive lock keeps lines of concurrent writers from interleaving.
            fcntl.flock(store, fcntl.LOCK_EX)
            store.write("\n".join(lines) + "\n")
        return len(lines)

    def load(self) -> list[UsageRecord]:
        """Return every recorded operation, merged by hash; an absent file is an empty store."""
        if not self.path.exists():
            return []
        merged: dict[str, dict] = {}
        with open(self.path, encoding="utf-8") as store:
            for number, line in enumerate(store, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    key = str(raw["hash"])
                    entry = merged.setdefault(
                        key,
                        {"name": str(raw["name"]), "body": str(raw.get("body", "")), "coordinates": set(), "clients": set(), "count": 0, "last_seen": ""},
                    )
                    entry["coordinates"].update(raw.get("coordinates", ()))
                    entry["clients"].add(str(raw.get("client", "unknown")))
                    entry["count"] += int(raw.get("count", 1))
                    entry["last_seen"] = max(entry["last_seen"], str(raw.get("seen_at", "")))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                    raise UsageError(f"{self.path}:{number}: not a usage record ({error}); fix or remove that line") from error
        return [
            UsageRecord(
                hash=key,
                name=entry["name"],
                body=entry["body"],
                coordinates=frozenset(entry["coordinates"]),
                clients=frozenset(entry["clients"]),
                count=entry["count"],
                last_seen=entry["last_seen"],
            )
            for key, entry in sorted(merged.items(), key=lambda item: item[1]["name"])
        ]
