"""Tokens for tests against the real Fief: through its admin API, its login form, or its own signing key.

Reading the tenant's private key out of Fief's database lets a test sign a token that passes the
signature check and breaks exactly one claim (expired, wrong audience, wrong issuer), which no
Fief endpoint would hand out.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
import jwt

from identity.catalog import TENANT_SLUG
from identity.config import IdentityConfig
from identity.server import fief_domain
from labs64.settings import PlatformSettings

__all__ = ["FiefSigningKey"]


class FiefSigningKey:
    """The Labs64 tenant's own RSA signing key, as Fief stores it."""

    def __init__(self, settings: PlatformSettings, config: IdentityConfig) -> None:
        self.jwk = json.loads(asyncio.run(_read_sign_jwk(settings)))
        self.kid = self.jwk["kid"]
        self.key = jwt.PyJWK(self.jwk, algorithm="RS256").key
        self.config = config

    def claims(self, subject: uuid.UUID, permissions: list[str]) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.config.issuer,
            "aud": [self.config.cli_client_id],
            "sub": str(subject),
            "iat": now,
            "exp": now + 600,
            "azp": self.config.cli_client_id,
            "scope": "openid",
            "permissions": permissions,
        }

    def mint(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


async def _read_sign_jwk(settings: PlatformSettings) -> str:
    connection = await asyncpg.connect(
        host=settings.host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password,
        database=settings.database_name("fief"),
    )
    try:
        workspace_id, prefix = await connection.fetchrow(
            "SELECT id, database_table_prefix FROM workspaces WHERE domain = $1", fief_domain(settings)
        )
        return await connection.fetchval(f'SELECT sign_jwk FROM "{workspace_id}".{prefix}tenants WHERE slug = $1', TENANT_SLUG)
    finally:
        await connection.close()
