"""The app factory every module uses: GraphQL endpoint, health checks and request ids."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.federation import Schema

from identity.verifier import TokenVerifier
from subgraphs.kit.context import RequestContext
from subgraphs.kit.db import Database
from subgraphs.kit.logging import request_id_var

__all__ = ["create_subgraph_app", "REQUEST_ID_HEADER"]

REQUEST_ID_HEADER = "x-request-id"

logger = logging.getLogger(__name__)


class _SubgraphGraphQL(GraphQL[RequestContext, None]):
    def __init__(self, schema: Schema, database: Database, verifier: TokenVerifier | None) -> None:
        # GraphiQL loads its assets from a CDN and stays blank offline, so it is off; the
        # platform's explorer is served elsewhere.
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=False)
        self.database = database
        self.verifier = verifier

    async def get_context(self, request: Request, response: Any) -> RequestContext:  # type: ignore[override]
        return RequestContext(database=self.database, request=request, request_id=request_id_var.get(), verifier=self.verifier)


class RequestIdMiddleware:
    """Adopt the caller's ``x-request-id`` (the router propagates it) or mint one, and echo it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode())
        request_id = incoming.decode("latin-1")[:128] if incoming else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["path"] == "/graphql":
                logger.info(
                    "request served",
                    extra={"path": scope["path"], "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
                )
            request_id_var.reset(token)


def create_subgraph_app(name: str, schema: Schema, database: Database, verifier: TokenVerifier | None = None) -> Starlette:
    """Build the ASGI app of one module.

    ``/health`` is liveness (the process serves requests); ``/health/ready`` is readiness (its
    database answers), which is what the process manager and load balancers wait on. Fields
    guarded by permission classes verify the bearer token with ``verifier``. Without a verifier
    they return UNAUTHENTICATED errors.
    """

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "UP", "subgraph": name})

    async def ready(_: Request) -> Response:
        try:
            await database.ping()
        except (SQLAlchemyError, OSError) as error:
            logger.warning("readiness check failed: database unreachable", extra={"error": str(error)})
            return JSONResponse({"status": "DOWN", "subgraph": name, "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "UP", "subgraph": name, "database": "reachable"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        logger.info("subgraph starting", extra={"subgraph": name})
        yield
        await database.dispose()
        if verifier is not None:
            await verifier.aclose()
        logger.info("subgraph stopped", extra={"subgraph": name})

    graphql_app = _SubgraphGraphQL(schema, database, verifier)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/health/ready", ready),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    return app
