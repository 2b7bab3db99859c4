"""Shared kit of every module: app factory, database, DataLoaders, pagination, errors, logging."""

from subgraphs.kit.app import REQUEST_ID_HEADER, create_subgraph_app
from subgraphs.kit.auth import (
    IsAuthenticated,
    OwnerOrPermission,
    Principal,
    RequiresPermission,
    current_principal,
    forbidden,
    requires_permission,
    unauthenticated,
)
from subgraphs.kit.context import RequestContext
from subgraphs.kit.db import Database
from subgraphs.kit.errors import NotFoundError, ValidationError, bad_user_input
from subgraphs.kit.ids import parse_id, try_parse_id
from subgraphs.kit.loaders import entity_loader, group_loader
from subgraphs.kit.logging import configure_logging, request_id_var
from subgraphs.kit.pagination import Connection, Edge, PageInfo, paginate

__all__ = [
    "REQUEST_ID_HEADER",
    "Connection",
    "Database",
    "Edge",
    "IsAuthenticated",
    "OwnerOrPermission",
    "Principal",
    "RequiresPermission",
    "NotFoundError",
    "PageInfo",
    "RequestContext",
    "ValidationError",
    "bad_user_input",
    "configure_logging",
    "create_subgraph_app",
    "current_principal",
    "forbidden",
    "requires_permission",
    "unauthenticated",
    "entity_loader",
    "group_loader",
    "paginate",
    "parse_id",
    "try_parse_id",
    "request_id_var",
]
