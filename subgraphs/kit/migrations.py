"""Alembic helpers: each module keeps its migrations in ``<module>/migrations``.

Every module owns its database, so the default ``alembic_version`` table is per module too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

__all__ = ["alembic_config", "upgrade", "run_env"]


def alembic_config(package_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(package_dir / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(package_dir: Path, database_url: str, revision: str = "head") -> None:
    """Apply a module's migrations up to ``revision``."""
    command.upgrade(alembic_config(package_dir, database_url), revision)


def run_env(context: object, target_metadata: MetaData) -> None:
    """Body of every module's ``env.py``: run migrations online over asyncpg."""
    config = context.config  # type: ignore[attr-defined]

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)  # type: ignore[attr-defined]
        with context.begin_transaction():  # type: ignore[attr-defined]
            context.run_migrations()  # type: ignore[attr-defined]

    async def run_async() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())
