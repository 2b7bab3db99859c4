"""Make a running Fief match the platform's catalog; safe to run at every start.

Tenant, clients, permissions and roles go through Fief's admin API. The seeded users are written
into Fief's workspace database instead, because the admin API cannot choose a user's id and the
modules' data already refers to the seeded ids; writing a thousand rows in one transaction also
avoids a thousand Argon2 hashes (every seeded user shares one development password).
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import uuid
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def _workspace_database(settings: PlatformSettings) -> tuple[Path, str]:
    """Path of the main workspace's SQLite file and its table prefix, from Fief's main database."""
    main = settings.fief_data_dir / "fief.db"
    with closing(sqlite3.connect(main, timeout=30)) as connection:
        row = connection.execute(
            "SELECT id, database_table_prefix FROM workspaces WHERE domain = ?", (fief_domain(settings),)
        ).fetchone()
    if row is None:
        raise IdentityError(f"Fief has no workspace for {fief_domain(settings)} in {main}; is the Fief server started?")
    return settings.fief_data_dir / row[0], row[1]


def _hash_password(settings: PlatformSettings, password: str) -> str:
    # Fief's own password context (passlib, Argon2 first) lives in its environment, not ours.
    python = fief_venv_dir(settings) / "bin" / "python"
    code = "import sys; from fief.crypto.password import password_helper; print(password_helper.hash(sys.stdin.read()))"
    result = subprocess.run([str(python), "-c", code], input=password, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise IdentityError(f"hashing the seed password with Fief's password helper failed: {result.stderr.strip()[-1000:]}")
    return result.stdout.strip()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _write_seeded_users(
    settings: PlatformSettings, tenant_id: str, permission_ids: dict[str, str], role_ids: dict[str, str]
) -> int:
    """Insert missing seeded users with their roles and role permissions; return how many were added."""
    path, prefix = _workspace_database(settings)
    users = build_dataset().users
    now = _timestamp(datetime.now(UTC))

    with closing(sqlite3.connect(path, timeout=30)) as connection, connection:
        present = {row[0] for row in connection.execute(f"SELECT id FROM {prefix}users WHERE tenant_id = ?", (tenant_id,))}
        missing = [user for user in users if str(user.id) not in present]
        if missing:
            hashed = _hash_password(settings, catalog.SEED_PASSWORD)
            connection.executemany(
                f"INSERT OR IGNORE INTO {prefix}users (id, created_at, updated_at, email, email_lower, email_verified, "
                "hashed_password, is_active, tenant_id) VALUES (?, ?, ?, ?, ?, 1, ?, 1, ?)",
                [(str(u.id), _timestamp(u.created_at), now, u.email, u.email.lower(), hashed, tenant_id) for u in missing],
            )

        # Roles and the permissions they grant are recomputed for seeded users on every run, so a
        # changed catalog reaches them. Fief's worker does this for roles given in its dashboard.
        seeded = [(ordinal, str(user.id)) for ordinal, user in enumerate(users)]
        role_rows, permission_rows = [], []
        for ordinal, user_id in seeded:
            for role_name in catalog.roles_of_seeded_user(ordinal):
                role_id = role_ids[role_name]
                role_rows.append((str(uuid.uuid4()), now, now, user_id, role_id))
                role = next(r for r in catalog.ROLES if r.name == role_name)
                for codename in role.permissions:
                    permission_rows.append((str(uuid.uuid4()), now, now, user_id, permission_ids[codename], role_id))
        our_roles = tuple(role_ids.values())
        marks = ",".join("?" * len(our_roles))
        connection.execute("CREATE TEMP TABLE seeded_ids (id CHAR(36) PRIMARY KEY)")
        connection.executemany("INSERT INTO seeded_ids VALUES (?)", [(user_id,) for _, user_id in seeded])
        connection.execute(
            f"DELETE FROM {prefix}user_permissions WHERE user_id IN (SELECT id FROM seeded_ids) AND from_role_id IN ({marks})",
            our_roles,
        )
        connection.execute(
            f"DELETE FROM {prefix}user_roles WHERE user_id IN (SELECT id FROM seeded_ids) AND role_id IN ({marks})", our_roles
        )
        # A seeded email already taken by another account was skipped above; write rows only for users that exist.
        connection.executemany(
            f"INSERT INTO {prefix}user_roles (id, created_at, updated_at, user_id, role_id) "
            f"SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM {prefix}users WHERE id = ?)",
            [(*row, row[3]) for row in role_rows],
        )
        connection.executemany(
            f"INSERT INTO {prefix}user_permissions (id, created_at, updated_at, user_id, permission_id, from_role_id) "
            f"SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM {prefix}users WHERE id = ?)",
            [(*row, row[3]) for row in permission_rows],
        )
    return len(missing)
