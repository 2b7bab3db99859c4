"""Typed mutation errors and the GraphQL error codes every module uses.

Mutations return these as members of a result union, so a client gets a typed answer naming the
invalid input instead of a transport error. The types are shareable because every module defines
them with the same shape.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

__all__ = ["ValidationError", "NotFoundError", "bad_user_input"]


@strawberry.federation.type(shareable=True, description="The input was rejected; nothing was written.")
class ValidationError:
    message: str = strawberry.field(description="What is wrong with the input and how to fix it.")
    field: str | None = strawberry.field(default=None, description="Input field the message refers to, when one.")
    code: str = strawberry.field(default="INVALID_INPUT", description="Machine-readable reason.")


@strawberry.federation.type(shareable=True, description="A referenced object does not exist.")
class NotFoundError:
    message: str
    id: strawberry.ID


def bad_user_input(message: str, **details: object) -> GraphQLError:
    """Build a query-level error with the conventional ``BAD_USER_INPUT`` code."""
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", **details})
