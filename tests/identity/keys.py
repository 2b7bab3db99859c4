"""Signing keys and token minting for unit tests that need no running identity provider."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from identity.config import IdentityConfig

ISSUER = "https://127.0.0.1:1/labs64"
AUDIENCE = "test-client"
CONFIG = IdentityConfig(issuer=ISSUER, jwks_url="http://127.0.0.1:1/labs64/.well-known/jwks.json", audiences=(AUDIENCE,), leeway_s=5)


class TestKey:
    """An RSA key pair published under ``kid``."""

    __test__ = False

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig"}

    def mint(self, subject: uuid.UUID, permissions: list[str] | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": [AUDIENCE],
            "sub": str(subject),
            "iat": now,
            "exp": now + 600,
            "azp": AUDIENCE,
            "permissions": permissions or [],
        }
        claims.update(overrides)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.private, algorithm="RS256", headers={"kid": self.kid})


def jwks(*keys: TestKey) -> dict[str, Any]:
    return {"keys": [key.jwk() for key in keys]}
