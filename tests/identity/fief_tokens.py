"""Tokens for tests against the real Fief: through its admin API, its login form, or its own signing key.

Reading the tenant's private key out of Fief's database lets a test sign a token that passes the
signature check and breaks exactly one claim (expired, wrong audience, wrong issuer), which no
Fief endpoint would hand out.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import closing
from typing import Any

import jwt

from identity.catalog import TENANT_SLUG
from identity.config import IdentityConfig
from identity.server import fief_domain
from labs64.settings import PlatformSettings

__all__ = ["FiefSigningKey"]


class FiefSigningKey:
    """The Labs64 tenant's own RSA signing key, as Fief stores it."""

    def __init__(self, settings: PlatformSettings, config: IdentityConfig) -> None:
        main = settings.fief_data_dir / "fief.db"
        with closing(sqlite3.connect(main)) as connection:
            workspace_id, prefix = connection.execute(
                "SELECT id, database_table_prefix FROM workspaces WHERE domain = ?", (fief_domain(settings),)
            ).fetchone()
        with closing(sqlite3.connect(settings.fief_data_dir / workspace_id)) as connection:
            (sign_jwk,) = connection.execute(f"SELECT sign_jwk FROM {prefix}tenants WHERE slug = ?", (TENANT_SLUG,)).fetchone()
        self.jwk = json.loads(sign_jwk)
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
