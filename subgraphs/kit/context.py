"""The per-request GraphQL context: database access, request id and the request's DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from identity.errors import TokenInvalid, TokenMissing
from subgraphs.kit.db import Database

if TYPE_CHECKING:
    from identity.verifier import Principal, TokenVerifier

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
    principal: Principal | None = None
    """The verified caller; set up front by in-process callers, else filled by :meth:`authenticate`."""
    verifier: TokenVerifier | None = None
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    _authentication: asyncio.Task[Principal] | None = None

    async def authenticate(self) -> Principal:
        """Verify the request's bearer token once per request; raise an UNAUTHENTICATED GraphQL error if it fails."""
        if self.principal is not None:
            return self.principal
        if self._authentication is None:
            # Sibling fields resolve concurrently: they share one verification.
            self._authentication = asyncio.ensure_future(self._verify())
        self.principal = await asyncio.shield(self._authentication)
        return self.principal

    async def userinfo(self) -> dict[str, Any]:
        """Fetch the caller's profile from the identity provider, such as their email address."""
        from subgraphs.kit.auth import unauthenticated

        await self.authenticate()
        if self.verifier is None:
            raise unauthenticated("this module has no token verifier configured.")
        try:
            return await self.verifier.userinfo(self.request.headers.get("authorization") if self.request is not None else None)
        except (TokenMissing, TokenInvalid) as error:
            raise unauthenticated(str(error)) from error

    async def _verify(self) -> Principal:
        from subgraphs.kit.auth import unauthenticated

        if self.verifier is None:
            raise unauthenticated("this module has no token verifier configured.")
        header = self.request.headers.get("authorization") if self.request is not None else None
        try:
            return await self.verifier.authenticate(header)
        except (TokenMissing, TokenInvalid) as error:
            raise unauthenticated(str(error)) from error

    def loader(self, key: Hashable, factory: Callable[[Database], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        """Return this request's loader for ``key``, building it with ``factory`` on first use."""
        existing = self._loaders.get(key)
        if existing is None:
            existing = factory(self.database)
            self._loaders[key] = existing
        return existing
