"""The per-request GraphQL context: database access, request id and the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from subgraphs.kit.db import Database

__all__ = ["RequestContext"]


@dataclass
class RequestContext:
    """Context handed to every resolver of one GraphQL request.

    Loaders live here, not on the app, because a DataLoader caches what it loaded: sharing one
    across requests would serve stale rows and leak data between callers.
    """

    database: Database
    request: Request | None = None
    request_id: str = ""
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    def loader(self, key: Hashable, factory: Callable[[Database], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        """Return this request's loader for ``key``, building it with ``factory`` on first use."""
        existing = self._loaders.get(key)
        if existing is None:
            existing = factory(self.database)
            self._loaders[key] = existing
        return existing
