"""The platform's edge verifies bearer tokens against the real Fief's JWKS."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from labs64.platform import Platform

pytestmark = pytest.mark.platform

QUERY = "{ me { email } }"


def _post(platform: Platform, token: str) -> httpx.Response:
    return httpx.post(
        platform.settings.edge_url,
        json={"query": QUERY},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        trust_env=False,
    )


def _with_claim(token: str, **claims: object) -> str:
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(claims)
    tampered = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{header}.{tampered}.{signature}"


def test_fief_token_passes_edge(platform: Platform, seeded_token: Callable[[int], str]) -> None:
    response = _post(platform, seeded_token(1))

    assert response.status_code == 200
    assert response.json()["data"]["me"]["email"]


def test_tampered_fief_token_blocked_at_edge(platform: Platform, seeded_token: Callable[[int], str]) -> None:
    response = _post(platform, _with_claim(seeded_token(1), sub="00000000-0000-4000-8000-000000000000"))

    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_TOKEN"
    assert "signature does not match" in error["message"]
