"""`labs64 seed`: load the deterministic data set into every module's database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from importlib import import_module

from sqlalchemy import text

from labs64.dataset import build_dataset
from labs64.errors import PlatformError
from labs64.settings import SUBGRAPH_NAMES, PlatformSettings
from subgraphs.kit import Database

__all__ = ["seed_platform", "has_data"]


async def _table_names(database: Database) -> list[str]:
    async with database.session() as session:
        result = await session.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        )
        return [row[0] for row in result]


async def _row_count(database: Database, tables: list[str]) -> int:
    async with database.session() as session:
        total = 0
        for table in tables:
            total += int((await session.execute(text(f'SELECT count(*) FROM "{table}"'))).scalar_one())
        return total


async def _seed(settings: PlatformSettings, reset: bool, progress: Callable[[str], None]) -> dict[str, dict[str, int]]:
    databases = {name: Database(settings.database_url(name), pool_size=2) for name in SUBGRAPH_NAMES}
    try:
        tables = {name: await _table_names(db) for name, db in databases.items()}
        occupied = {name for name, db in databases.items() if await _row_count(db, tables[name]) > 0}
        if occupied and not reset:
            raise PlatformError(
                f"Databases of {', '.join(sorted(occupied))} already hold data; "
                "run `labs64 seed --reset` to replace all module data with the seed data set."
            )

        # Building the data set takes seconds, so it waits until the databases are known to accept it.
        started = time.monotonic()
        dataset = build_dataset()
        progress(f"seed: data set built in {time.monotonic() - started:.1f} s")
        counts: dict[str, dict[str, int]] = {}
        for name, database in databases.items():
            if reset and tables[name]:
                quoted = ", ".join(f'"{table}"' for table in tables[name])
                async with database.session() as session:
                    await session.execute(text(f"TRUNCATE {quoted} CASCADE"))
                    await session.commit()
            module_started = time.monotonic()
            counts[name] = await import_module(f"subgraphs.{name}.seed").load_seed(database, dataset)
            rows = sum(counts[name].values())
            progress(f"seed: {name}: {rows} rows in {time.monotonic() - module_started:.1f} s")
        return counts
    finally:
        for database in databases.values():
            await database.dispose()


def seed_platform(settings: PlatformSettings, *, reset: bool = False, progress: Callable[[str], None] = print) -> dict[str, dict[str, int]]:
    """Load the seed data set; refuse to overwrite existing data unless ``reset`` is set."""
    return asyncio.run(_seed(settings, reset, progress))


def has_data(settings: PlatformSettings) -> bool:
    """Return whether any module table contains a row."""

    async def check() -> bool:
        for name in SUBGRAPH_NAMES:
            database = Database(settings.database_url(name), pool_size=1)
            try:
                if await _row_count(database, await _table_names(database)) > 0:
                    return True
            finally:
                await database.dispose()
        return False

    return asyncio.run(check())
