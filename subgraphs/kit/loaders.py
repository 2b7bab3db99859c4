"""Per-request DataLoaders that turn N entity lookups into one SQL statement.

The router sends every representation of one type in a single ``_entities`` request and Strawberry
calls ``resolve_reference`` once per representation, so without batching a list of 100 users costs
100 queries. Each loader here collects the keys of one event-loop tick and issues one
``WHERE key IN (...)`` statement for all of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlmodel import SQLModel
from strawberry.dataloader import DataLoader

from subgraphs.kit.db import Database

__all__ = ["entity_loader", "group_loader"]

ModelT = TypeVar("ModelT", bound=SQLModel)


def entity_loader(database: Database, model: type[ModelT], key: str = "id") -> DataLoader[Any, ModelT | None]:
    """Build a loader returning the row whose ``key`` column equals each requested key, or None."""
    column = getattr(model, key)

    async def load(keys: Sequence[Hashable]) -> list[ModelT | None]:
        async with database.session() as session:
            rows = (await session.execute(select(model).where(column.in_(list(keys))))).scalars().all()
        by_key = {getattr(row, key): row for row in rows}
        return [by_key.get(k) for k in keys]

    return DataLoader(load_fn=load)


def group_loader(
    database: Database,
    model: type[ModelT],
    key: str,
    order_by: Sequence[Any] = (),
) -> DataLoader[Any, list[ModelT]]:
    """Build a loader returning every row whose ``key`` column equals each requested key."""
    column = getattr(model, key)

    async def load(keys: Sequence[Hashable]) -> list[list[ModelT]]:
        statement = select(model).where(column.in_(list(keys))).order_by(*order_by)
        async with database.session() as session:
            rows = (await session.execute(statement)).scalars().all()
        groups: dict[Hashable, list[ModelT]] = defaultdict(list)
        for row in rows:
            groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load_fn=load)
