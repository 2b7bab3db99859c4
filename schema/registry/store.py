"""The schema registry in PostgreSQL: every published supergraph version with its subgraphs' SDL.

The registry is the ``labs64_registry`` database on the platform's PostgreSQL. Its tables come from
the Alembic migrations next to this module, applied by ``labs64 up`` and on first publish. The
command line is synchronous, so every public function here runs its own event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from labs64 import postgres
from labs64.settings import PlatformSettings
from schema.composition import SubgraphSource

__all__ = [
    "REGISTRY_NAME",
    "PublishedSubgraph",
    "RegistryError",
    "RegistryUnavailable",
    "SchemaVersion",
    "VersionNotFound",
    "fetch_history",
    "fetch_latest",
    "fetch_version",
    "migrate_registry",
    "publish_version",
    "registry_url",
]

#: The registry's database is ``labs64_<REGISTRY_NAME>``, named like the modules' databases.
REGISTRY_NAME = "registry"

_PACKAGE_DIR = Path(__file__).resolve().parent

# A check must stay usable offline, so an unreachable registry is given up on quickly.
_CONNECT_TIMEOUT_S = 3.0

# Any constant works as long as every publisher uses the same one: it serialises publishes so
# that version numbers follow the order in which versions were compared with their predecessor.
_PUBLISH_LOCK_KEY = 0x6C616273  # "labs"


class RegistryError(RuntimeError):
    """The schema registry could not complete a request."""


class RegistryUnavailable(RegistryError):
    """The registry's database is not reachable or not created yet."""


class VersionNotFound(RegistryError):
    """No published version has the requested number."""


@dataclass(frozen=True)
class PublishedSubgraph:
    name: str
    routing_url: str
    sdl: str
    sdl_sha256: str


@dataclass(frozen=True)
class SchemaVersion:
    """One published supergraph."""

    version: int
    created_at: datetime
    author: str
    message: str
    supergraph_sdl: str
    supergraph_sha256: str
    subgraphs: tuple[PublishedSubgraph, ...] = ()

    def subgraph(self, name: str) -> PublishedSubgraph | None:
        return next((subgraph for subgraph in self.subgraphs if subgraph.name == name), None)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def registry_url(settings: PlatformSettings) -> str:
    """SQLAlchemy URL of the registry database, as the modules' role."""
    return settings.database_url(REGISTRY_NAME)


async def _connect(settings: PlatformSettings) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(
            host=settings.host,
            port=settings.postgres_port,
            user=settings.postgres_user,
            password=settings.postgres_password,
            database=settings.database_name(REGISTRY_NAME),
            timeout=_CONNECT_TIMEOUT_S,
        )
    except asyncpg.InvalidCatalogNameError as error:
        raise RegistryUnavailable(
            f"the registry database {settings.database_name(REGISTRY_NAME)} does not exist yet; "
            "`labs64 up` or `labs64 schema publish` creates it"
        ) from error
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        raise RegistryUnavailable(
            f"PostgreSQL at {settings.host}:{settings.postgres_port} is not reachable ({error.__class__.__name__}: {error}); "
            "start the platform with `labs64 up`"
        ) from error


async def _create_database(settings: PlatformSettings) -> None:
    await postgres.ensure_databases(settings)
    connection = await asyncpg.connect(**postgres.superuser_dsn(settings), timeout=_CONNECT_TIMEOUT_S)  # type: ignore[arg-type]
    try:
        database = settings.database_name(REGISTRY_NAME)
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await connection.execute(f'CREATE DATABASE "{database}" OWNER "{settings.postgres_user}"')
    finally:
        await connection.close()


def migrate_registry(settings: PlatformSettings) -> None:
    """Create the registry database when missing and bring its tables to the newest migration."""
    from subgraphs.kit.migrations import upgrade

    try:
        asyncio.run(_create_database(settings))
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        raise RegistryUnavailable(
            f"could not create the registry database on PostgreSQL port {settings.postgres_port} "
            f"({error.__class__.__name__}: {error}); start the platform with `labs64 up`"
        ) from error
    try:
        upgrade(_PACKAGE_DIR, registry_url(settings))
    except (OSError, SQLAlchemyError) as error:
        raise RegistryUnavailable(f"could not migrate the registry database: {error}") from error


async def _load_subgraphs(connection: asyncpg.Connection, version: int) -> tuple[PublishedSubgraph, ...]:
    rows = await connection.fetch(
        "SELECT name, routing_url, sdl, sdl_sha256 FROM subgraph_schema WHERE version = $1 ORDER BY name", version
    )
    return tuple(PublishedSubgraph(**dict(row)) for row in rows)


def _version_from_row(row: asyncpg.Record, subgraphs: tuple[PublishedSubgraph, ...] = ()) -> SchemaVersion:
    return SchemaVersion(
        version=row["version"],
        created_at=row["created_at"],
        author=row["author"],
        message=row["message"],
        supergraph_sdl=row["supergraph_sdl"],
        supergraph_sha256=row["supergraph_sha256"],
        subgraphs=subgraphs,
    )


_SELECT_VERSION = "SELECT version, created_at, author, message, supergraph_sdl, supergraph_sha256 FROM schema_version"


async def _latest(connection: asyncpg.Connection) -> SchemaVersion | None:
    row = await connection.fetchrow(f"{_SELECT_VERSION} ORDER BY version DESC LIMIT 1")
    if row is None:
        return None
    return _version_from_row(row, await _load_subgraphs(connection, row["version"]))


def _run(settings: PlatformSettings, action) -> object:  # noqa: ANN001 - an async callable taking a connection
    async def run() -> object:
        connection = await _connect(settings)
        try:
            return await action(connection)
        except asyncpg.UndefinedTableError as error:
            raise RegistryUnavailable(
                "the registry database has no tables yet; `labs64 up` or `labs64 schema publish` creates them"
            ) from error
        finally:
            await connection.close()

    return asyncio.run(run())


def fetch_latest(settings: PlatformSettings) -> SchemaVersion | None:
    """Return the newest published version, or None when nothing was published yet."""
    return _run(settings, _latest)  # type: ignore[return-value]


def fetch_version(settings: PlatformSettings, version: int) -> SchemaVersion:
    """Return one published version; raise VersionNotFound when it does not exist."""

    async def fetch(connection: asyncpg.Connection) -> SchemaVersion:
        row = await connection.fetchrow(f"{_SELECT_VERSION} WHERE version = $1", version)
        if row is None:
            newest = await connection.fetchval("SELECT max(version) FROM schema_version")
            available = f"versions 1 to {newest} exist" if newest else "nothing was published yet"
            raise VersionNotFound(f"schema version {version} not found; {available}")
        return _version_from_row(row, await _load_subgraphs(connection, version))

    return _run(settings, fetch)  # type: ignore[return-value]


def fetch_history(settings: PlatformSettings, limit: int) -> list[SchemaVersion]:
    """Return the newest ``limit`` versions, newest first, each with its subgraphs."""

    async def fetch(connection: asyncpg.Connection) -> list[SchemaVersion]:
        rows = await connection.fetch(f"{_SELECT_VERSION} ORDER BY version DESC LIMIT $1", limit)
        return [_version_from_row(row, await _load_subgraphs(connection, row["version"])) for row in rows]

    return _run(settings, fetch)  # type: ignore[return-value]


def publish_version(
    settings: PlatformSettings,
    supergraph_sdl: str,
    subgraphs: Sequence[SubgraphSource],
    author: str,
    message: str,
) -> tuple[SchemaVersion, bool]:
    """Store a new version unless the newest one has the same supergraph.

    Returns the version and whether it was created now (False: the newest version is identical).
    """
    digest = _sha256(supergraph_sdl)

    async def publish(connection: asyncpg.Connection) -> tuple[SchemaVersion, bool]:
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _PUBLISH_LOCK_KEY)
            latest = await _latest(connection)
            if latest is not None and latest.supergraph_sha256 == digest:
                return latest, False
            row = await connection.fetchrow(
                "INSERT INTO schema_version (author, message, supergraph_sdl, supergraph_sha256) "
                "VALUES ($1, $2, $3, $4) RETURNING version, created_at, author, message, supergraph_sdl, supergraph_sha256",
                author,
                message,
                supergraph_sdl,
                digest,
            )
            await connection.executemany(
                "INSERT INTO subgraph_schema (version, name, routing_url, sdl, sdl_sha256) VALUES ($1, $2, $3, $4, $5)",
                [(row["version"], s.name, s.url, s.sdl, _sha256(s.sdl)) for s in subgraphs],
            )
            return _version_from_row(row, await _load_subgraphs(connection, row["version"])), True

    return _run(settings, publish)  # type: ignore[return-value]
