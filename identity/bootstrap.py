"""Make a running Fief match the platform's catalog; safe to run at every start.

Tenant, clients, permissions and roles go through Fief's admin API. The seeded users are written
into Fief's workspace tables in PostgreSQL instead, because the admin API cannot choose a user's
id and the modules' data already refers to the seeded ids. Writing a thousand rows in one
transaction also avoids a thousand Argon2 hashes, since every seeded user shares one development
password.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from identity import catalog
from identity.admin import FiefAdmin
from identity.config import IdentityConfig, identity_config_path
from identity.errors import IdentityError
from identity.server import FiefSecrets, fief_domain, fief_venv_dir
from labs64.dataset import build_dataset
from labs64.settings import PlatformSettings

__all__ = ["bootstrap_fief", "cli_redirect_uri"]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def bootstrap_fief(settings: PlatformSettings, progress: Progress = logger.info) -> IdentityConfig:
    """Converge tenant, clients, permissions, roles and seeded users; write and return the identity config."""
    fief_secrets = FiefSecrets.load_or_create(settings)
    with FiefAdmin(settings.fief_url, fief_secrets.admin_api_key) as admin:
        tenant = _ensure_tenant(admin)
        web = _ensure_client(admin, tenant["id"], catalog.WEB_CLIENT, list(catalog.WEB_REDIRECT_URIS))
        cli = _ensure_client(admin, tenant["id"], catalog.CLI_CLIENT, [cli_redirect_uri(settings)])
        permission_ids = _ensure_permissions(admin)
        role_ids = _ensure_roles(admin, permission_ids)

    written = _write_seeded_users(settings, tenant["id"], permission_ids, role_ids)
    progress(f"Fief tenant {tenant['slug']}: {len(permission_ids)} permissions, {len(role_ids)} roles, {written} seeded users added")

    domain = fief_domain(settings)
    config = IdentityConfig(
        issuer=f"https://{domain}/{tenant['slug']}",
        jwks_url=f"{settings.fief_url}/{tenant['slug']}/.well-known/jwks.json",
        audiences=(web["client_id"], cli["client_id"]),
        base_url=f"{settings.fief_url}/{tenant['slug']}",
        tenant_id=tenant["id"],
        web_client_id=web["client_id"],
        cli_client_id=cli["client_id"],
        cli_client_uuid=cli["id"],
        cli_redirect_uri=cli_redirect_uri(settings),
        permission_ids=permission_ids,
        role_ids=role_ids,
    )
    config.write(identity_config_path(settings))
    return config


def cli_redirect_uri(settings: PlatformSettings) -> str:
    return f"http://127.0.0.1:{settings.fief_login_port}/callback"


def _ensure_tenant(admin: FiefAdmin) -> dict[str, Any]:
    for tenant in admin.list("tenants"):
        if tenant["slug"] == catalog.TENANT_SLUG:
            return tenant
    tenant = admin.create("tenants", {"name": catalog.TENANT_NAME, "registration_allowed": True})
    if tenant["slug"] != catalog.TENANT_SLUG:
        raise IdentityError(
            f"Fief gave the new tenant the slug {tenant['slug']!r}, expected {catalog.TENANT_SLUG!r}; "
            "another tenant probably took that slug: rename it in the Fief dashboard."
        )
    return tenant


def _ensure_client(admin: FiefAdmin, tenant_id: str, name: str, redirect_uris: list[str]) -> dict[str, Any]:
    # Public clients have no secret to keep: browser apps and the CLI prove the flow with PKCE.
    desired = {"name": name, "first_party": True, "client_type": "public", "redirect_uris": redirect_uris}
    for client in admin.list("clients"):
        if client["name"] == name and client["tenant_id"] == tenant_id:
            if sorted(client["redirect_uris"]) != sorted(redirect_uris) or client["client_type"] != "public":
                client = admin.update("clients", client["id"], desired)
            return client
    return admin.create("clients", {**desired, "tenant_id": tenant_id})


def _ensure_permissions(admin: FiefAdmin) -> dict[str, str]:
    existing = {permission["codename"]: permission["id"] for permission in admin.list("permissions")}
    for codename, name in catalog.PERMISSIONS.items():
        if codename not in existing:
            existing[codename] = admin.create("permissions", {"name": name, "codename": codename})["id"]
    return {codename: existing[codename] for codename in catalog.PERMISSIONS}


def _ensure_roles(admin: FiefAdmin, permission_ids: dict[str, str]) -> dict[str, str]:
    existing = {role["name"]: role for role in admin.list("roles")}
    role_ids = {}
    for role in catalog.ROLES:
        desired = {
            "name": role.name,
            "granted_by_default": role.granted_by_default,
            "permissions": sorted(permission_ids[codename] for codename in role.permissions),
        }
        current = existing.get(role.name)
        if current is None:
            current = admin.create("roles", desired)
        elif sorted(p["id"] for p in current["permissions"]) != desired["permissions"] or current["granted_by_default"] != role.granted_by_default:
            current = admin.update("roles", current["id"], desired)
        role_ids[role.name] = current["id"]
    return role_ids


def _fief_dsn(settings: PlatformSettings) -> dict[str, object]:
    return {
        "host": settings.host,
        "port": settings.postgres_port,
        "user": settings.postgres_user,
        "password": settings.postgres_password,
        "database": settings.database_name("fief"),
    }


async def _workspace_tables(connection: asyncpg.Connection, settings: PlatformSettings) -> str:
    """The schema-qualified table name prefix of the main workspace, such as ``"<schema>".fief_``."""
    row = await connection.fetchrow(
        "SELECT id, database_table_prefix FROM workspaces WHERE domain = $1", fief_domain(settings)
    )
    if row is None:
        raise IdentityError(f"Fief has no workspace for {fief_domain(settings)}; is the Fief server started?")
    # A workspace in Fief's own database keeps its tables in a schema named after its id.
    schema = str(row["id"])
    return f'"{schema}".{row["database_table_prefix"]}'


def _hash_password(settings: PlatformSettings, password: str) -> str:
    # Fief's own password context (passlib, Argon2 first) lives in its environment, not ours.
    python = fief_venv_dir(settings) / "bin" / "python"
    code = "import sys; from fief.crypto.password import password_helper; print(password_helper.hash(sys.stdin.read()))"
    result = subprocess.run([str(python), "-c", code], input=password, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise IdentityError(f"hashing the seed password with Fief's password helper failed: {result.stderr.strip()[-1000:]}")
    return result.stdout.strip()


def _write_seeded_users(
    settings: PlatformSettings, tenant_id: str, permission_ids: dict[str, str], role_ids: dict[str, str]
) -> int:
    return asyncio.run(_write_seeded_users_async(settings, tenant_id, permission_ids, role_ids))


async def _write_seeded_users_async(
    settings: PlatformSettings, tenant_id: str, permission_ids: dict[str, str], role_ids: dict[str, str]
) -> int:
    """Insert missing seeded users with their roles and role permissions; return how many were added."""
    users = build_dataset().users
    roles = {role.name: role for role in catalog.ROLES}
    tenant = uuid.UUID(tenant_id)
    now = datetime.now(UTC)

    connection = await asyncpg.connect(**_fief_dsn(settings))  # type: ignore[arg-type]
    try:
        prefix = await _workspace_tables(connection, settings)
        async with connection.transaction():
            present = {row["id"] for row in await connection.fetch(f"SELECT id FROM {prefix}users WHERE tenant_id = $1", tenant)}
            missing = [user for user in users if user.id not in present]
            if missing:
                hashed = _hash_password(settings, catalog.SEED_PASSWORD)
                await connection.executemany(
                    f"INSERT INTO {prefix}users (id, created_at, updated_at, email, email_lower, email_verified, "
                    "hashed_password, is_active, tenant_id) VALUES ($1, $2, $3, $4, $5, true, $6, true, $7) "
                    "ON CONFLICT DO NOTHING",
                    [(u.id, u.created_at, now, u.email, u.email.lower(), hashed, tenant) for u in missing],
                )

            # Roles and the permissions they grant are recomputed for seeded users on every run, so
            # a changed catalog reaches them. Fief's worker does this for roles given in its dashboard.
            seeded = [user.id for user in users]
            our_roles = [uuid.UUID(role_id) for role_id in role_ids.values()]
            await connection.execute(
                f"DELETE FROM {prefix}user_permissions WHERE user_id = ANY($1) AND from_role_id = ANY($2)", seeded, our_roles
            )
            await connection.execute(f"DELETE FROM {prefix}user_roles WHERE user_id = ANY($1) AND role_id = ANY($2)", seeded, our_roles)
            role_rows, permission_rows = [], []
            for ordinal, user in enumerate(users):
                for role_name in catalog.roles_of_seeded_user(ordinal):
                    role_id = uuid.UUID(role_ids[role_name])
                    role_rows.append((uuid.uuid4(), now, now, user.id, role_id))
                    for codename in roles[role_name].permissions:
                        permission_rows.append((uuid.uuid4(), now, now, user.id, uuid.UUID(permission_ids[codename]), role_id))
            # A seeded email already taken by another account was skipped above; write rows only for users that exist.
            await connection.executemany(
                f"INSERT INTO {prefix}user_roles (id, created_at, updated_at, user_id, role_id) "
                f"SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM {prefix}users WHERE id = $4)",
                role_rows,
            )
            await connection.executemany(
                f"INSERT INTO {prefix}user_permissions (id, created_at, updated_at, user_id, permission_id, from_role_id) "
                f"SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM {prefix}users WHERE id = $4)",
                permission_rows,
            )
    finally:
        await connection.close()
    return len(missing)
