"""Authentication and authorization for every module: GraphQL errors and Strawberry permission classes.

The router forwards the caller's ``Authorization`` header to each subgraph, and each subgraph
verifies it itself. Rules that need a row, such as "is this user a member?", live beside the
fields they guard in the module's schema and are built on the helpers here. Fields that can answer FORBIDDEN are
nullable, so that a refusal nulls that field alone instead of spreading to its parent object and
wiping out the rest of the response.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.schema_directive import Location
from strawberry.types import Info

from identity.verifier import Principal

__all__ = [
    "IsAuthenticated",
    "OwnerOrPermission",
    "Principal",
    "RequiresPermission",
    "current_principal",
    "forbidden",
    "requires_permission",
    "unauthenticated",
]

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


@strawberry.federation.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresPermission",
    compose=True,
    import_url="https://labs64.io/permission/v0.1",
    description="Permission that grants access to this field; the module enforces it, with any row rules beside the field.",
)
class RequiresPermission:
    """Documents a field's permission in the supergraph; composition keeps it, and the router ignores it."""

    name: str


def unauthenticated(reason: str) -> GraphQLError:
    """Build the error for a request without a valid token, naming the reason and how to get one."""
    return GraphQLError(f"Not authenticated: {reason}", extensions={"code": UNAUTHENTICATED})


def forbidden(message: str, **details: object) -> GraphQLError:
    """Build the error for a known caller who lacks the right for this field."""
    return GraphQLError(message, extensions={"code": FORBIDDEN, **details})


async def current_principal(info: Info[Any, Any]) -> Principal:
    """Return the verified caller of this request, or raise an UNAUTHENTICATED error."""
    return await info.context.authenticate()


class IsAuthenticated(BasePermission):
    """Any caller with a valid token."""

    message = "Not authenticated."
    error_extensions = {"code": UNAUTHENTICATED}

    async def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        await current_principal(info)
        return True


@cache
def requires_permission(codename: str) -> type[BasePermission]:
    """Build a permission class that lets through callers whose token carries ``codename``.

    Cached, so that every field guarded by one codename shares one class and one schema directive.
    """

    class HasPermission(BasePermission):
        message = f"Forbidden: this field needs the {codename} permission."
        error_extensions = {"code": FORBIDDEN, "permission": codename}

        async def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
            return (await current_principal(info)).has(codename)

    # Strawberry names the schema directive of each permission class after the class.
    HasPermission.__name__ = HasPermission.__qualname__ = "Requires" + "".join(
        part.capitalize() for part in codename.replace(":", "_").split("_")
    )
    return HasPermission


class OwnerOrPermission(BasePermission):
    """Base of rules of the form "the user the parent object belongs to, or whoever holds a permission".

    Subclasses set ``permission`` and implement :meth:`owner_of` to name the owning user's id.
    """

    permission: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.permission:
            cls.message = f"Forbidden: only the owner or a holder of {cls.permission} may read this field."
            cls.error_extensions = {"code": FORBIDDEN, "permission": cls.permission}

    def owner_of(self, source: Any, kwargs: dict[str, Any]) -> uuid.UUID | None:
        raise NotImplementedError

    async def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        principal = await current_principal(info)
        return principal.subject == self.owner_of(source, kwargs) or principal.has(self.permission)
