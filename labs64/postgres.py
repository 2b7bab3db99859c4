"""The platform's PostgreSQL cluster: creation, roles and one database per module."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from labs64.errors import PlatformError
from labs64.settings import SUBGRAPH_NAMES, PlatformSettings

__all__ = ["postgres_bin_dir", "postgres_os_user", "init_cluster", "postgres_command", "ensure_databases", "superuser_dsn"]

SUPERUSER = "postgres"


def postgres_bin_dir(settings: PlatformSettings) -> Path:
    """Find initdb and postgres: the configured directory, else the newest Debian install."""
    if settings.postgres_bin_dir is not None:
        candidates = [settings.postgres_bin_dir]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    raise PlatformError(
        "PostgreSQL server binaries not found (looked for initdb under /usr/lib/postgresql/*/bin). "
        "Install them with `apt-get install postgresql`, or set LABS64_POSTGRES_BIN_DIR."
    )


def postgres_os_user() -> str | None:
    """Operating-system user to run the server as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as error:
        raise PlatformError(
            "PostgreSQL refuses to run as root and no 'postgres' system user exists; "
            "install Debian's postgresql package, which creates it."
        ) from error
    return "postgres"


def _chown_to(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user=user, group=user if _group_exists(user) else None)


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def socket_dir(settings: PlatformSettings) -> Path:
    return settings.run_dir / "postgres"


def init_cluster(settings: PlatformSettings) -> bool:
    """Create the cluster on first use; return whether it was created now."""
    data_dir = settings.postgres_data_dir
    user = postgres_os_user()
    sockets = socket_dir(settings)
    sockets.mkdir(parents=True, exist_ok=True)
    _chown_to(sockets, user)
    if (data_dir / "PG_VERSION").exists():
        return False

    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    _chown_to(data_dir, user)
    # The tooling connects as superuser over the Unix socket, whose directory lives in the
    # platform's data directory; modules connect over TCP with a password.
    command = [
        str(postgres_bin_dir(settings) / "initdb"),
        "--pgdata", str(data_dir),
        "--username", SUPERUSER,
        "--auth-local", "trust",
        "--auth-host", "scram-sha-256",
        "--encoding", "UTF8",
        "--locale", "C.UTF-8",
    ]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if result.returncode != 0:
        raise PlatformError(f"initdb failed for {data_dir} (exit {result.returncode}):\n{result.stderr.strip()}")
    return True


def postgres_command(settings: PlatformSettings) -> list[str]:
    return [
        str(postgres_bin_dir(settings) / "postgres"),
        "-D", str(settings.postgres_data_dir),
        "-p", str(settings.postgres_port),
        "-k", str(socket_dir(settings)),
        "-c", f"listen_addresses={settings.host}",
        "-c", "max_connections=200",
        "-c", "shared_buffers=128MB",
        "-c", "fsync=on",
    ]


def superuser_dsn(settings: PlatformSettings, database: str = "postgres") -> dict[str, object]:
    return {"host": str(socket_dir(settings)), "port": settings.postgres_port, "user": SUPERUSER, "database": database}


async def ensure_databases(settings: PlatformSettings) -> None:
    """Create the modules' role and databases when missing; safe to run on every start."""
    connection = await asyncpg.connect(**superuser_dsn(settings))  # type: ignore[arg-type]
    try:
        role_exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", settings.postgres_user)
        password = settings.postgres_password.replace("'", "''")
        verb = "ALTER" if role_exists else "CREATE"
        await connection.execute(f"{verb} ROLE \"{settings.postgres_user}\" LOGIN PASSWORD '{password}'")
        # Fief keeps its tenants, clients and users in a database of its own on the same server.
        for name in (*SUBGRAPH_NAMES, "fief"):
            database = settings.database_name(name)
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await connection.execute(f'CREATE DATABASE "{database}" OWNER "{settings.postgres_user}"')
    finally:
        await connection.close()
