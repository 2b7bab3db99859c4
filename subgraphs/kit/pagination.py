"""Relay-style cursor connections with keyset pagination.

Rows are ordered newest first by ``(created_at, id)``; a cursor encodes that pair, so the next
page is a range scan on an index instead of an ``OFFSET`` that rereads every earlier row.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, func, select, tuple_

from subgraphs.kit.db import Database
from subgraphs.kit.errors import bad_user_input

__all__ = ["Connection", "Edge", "PageInfo", "paginate", "encode_cursor", "decode_cursor", "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE"]

NodeT = TypeVar("NodeT")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@strawberry.federation.type(shareable=True, description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of items in the whole list, across all pages.")
    async def total_count(self) -> int:
        return await self._count()

    @property
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Decode a cursor or raise a ``BAD_USER_INPUT`` error naming it."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise bad_user_input(
            f"Invalid cursor {cursor!r}: pass the endCursor of a previous page, or omit `after` for the first page.",
            argument="after",
        ) from error


def _check_page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise bad_user_input(
            f"Invalid page size first={first}: request between 0 and {MAX_PAGE_SIZE} items per page.",
            argument="first",
        )
    return first


async def paginate(
    database: Database,
    statement: Select[Any],
    model: Any,
    *,
    first: int | None,
    after: str | None,
    to_node: Callable[[Any], NodeT],
) -> Connection[NodeT]:
    """Run one page of ``statement`` (a ``select(model)`` with filters) as a connection."""
    limit = _check_page_size(first)
    page_statement = statement.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
    if after is not None:
        created_at, row_id = decode_cursor(after)
        page_statement = page_statement.where(tuple_(model.created_at, model.id) < tuple_(created_at, row_id))

    async with database.session() as session:
        rows: Sequence[Any] = (await session.execute(page_statement)).scalars().all()

    has_next = len(rows) > limit
    rows = rows[:limit]
    edges = [Edge(cursor=encode_cursor(row.created_at, row.id), node=to_node(row)) for row in rows]

    async def count() -> int:
        count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
        async with database.session() as session:
            return int((await session.execute(count_statement)).scalar_one())

    page_info = PageInfo(
        has_next_page=has_next,
        end_cursor=edges[-1].cursor if edges else None,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=page_info, _count=count)
