"""ASGI entry point of the users module: ``uvicorn subgraphs.users.app:create_app --factory``."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from identity.config import IdentityConfig
from identity.verifier import TokenVerifier
from labs64.settings import get_settings
from subgraphs.kit import Database, configure_logging, create_subgraph_app
from subgraphs.users.schema import schema

NAME = "users"
PACKAGE_DIR = Path(__file__).resolve().parent


def create_app() -> Starlette:
    configure_logging(NAME)
    settings = get_settings()
    verifier = TokenVerifier.for_fief(IdentityConfig.from_settings(settings))
    return create_subgraph_app(NAME, schema, Database(settings.database_url(NAME)), verifier)
