"""Entity ids: UUIDs on the wire as GraphQL ``ID`` strings."""

from __future__ import annotations

import uuid

from subgraphs.kit.errors import bad_user_input

__all__ = ["parse_id", "try_parse_id"]


def try_parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def parse_id(value: str, argument: str = "id") -> uuid.UUID:
    """Parse an ``ID`` argument or raise a ``BAD_USER_INPUT`` error naming the value."""
    parsed = try_parse_id(value)
    if parsed is None:
        raise bad_user_input(f"Invalid {argument} {value!r}: expected a UUID such as 'a3bb189e-8bf9-3888-9912-ace4e6543002'.", argument=argument)
    return parsed
