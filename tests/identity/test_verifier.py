"""Token verification against a JWKS served by a mock transport: each check, the cache and its refetch limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from identity.errors import TokenInvalid, TokenMissing
from identity.verifier import JwksCache, TokenVerifier
from tests.identity.keys import CONFIG, TestKey, jwks

SUBJECT = uuid.uuid4()


class JwksServer:
    """Serves whatever key set the test publishes and counts the requests."""

    def __init__(self, *keys: TestKey) -> None:
        self.keys = list(keys)
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, json=jwks(*self.keys))


@pytest.fixture(scope="module")
def key() -> TestKey:
    return TestKey("key-1")


def _verifier(server: JwksServer, min_refetch_s: float = 30.0) -> TokenVerifier:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
    return TokenVerifier(CONFIG, JwksCache(CONFIG.jwks_url, http, min_refetch_s=min_refetch_s))


async def test_valid_token_gives_subject_and_permissions(key: TestKey) -> None:
    principal = await _verifier(JwksServer(key)).verify(key.mint(SUBJECT, ["experiments:read"]))

    assert principal.subject == SUBJECT
    assert principal.has("experiments:read")
    assert not principal.has("admin")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"aud": ["another-client"]}, "audience"),
        ({"iss": "https://127.0.0.1:1/other"}, "issuer"),
        ({"nbf": int(time.time()) + 600}, "not yet valid"),
        ({"sub": "not-a-uuid"}, "subject"),
        ({"exp": None}, "exp"),
    ],
)
async def test_claims_are_checked(key: TestKey, overrides: dict, reason: str) -> None:
    with pytest.raises(TokenInvalid, match=reason):
        await _verifier(JwksServer(key)).verify(key.mint(SUBJECT, **overrides))


async def test_leeway_accepts_small_clock_skew(key: TestKey) -> None:
    token = key.mint(SUBJECT, exp=int(time.time()) - 2)

    assert (await _verifier(JwksServer(key)).verify(token)).subject == SUBJECT


async def test_alg_none_is_rejected(key: TestKey) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": key.kid}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": str(SUBJECT)}).encode()).rstrip(b"=")

    with pytest.raises(TokenInvalid, match="algorithm"):
        await _verifier(JwksServer(key)).verify(f"{header.decode()}.{payload.decode()}.")


async def test_hs256_signed_with_the_public_key_is_rejected(key: TestKey) -> None:
    public_pem = key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(key.mint(SUBJECT), options={"verify_signature": False})
    # PyJWT refuses PEM keys as HMAC secrets, which is what an attacker's own tool would not do.
    forged = _hs256(claims, key.kid, public_pem)

    with pytest.raises(TokenInvalid, match="algorithm"):
        await _verifier(JwksServer(key)).verify(forged)


def _hs256(claims: dict, kid: str, secret: bytes) -> str:
    def part(data: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": kid}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(secret, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


async def test_tampered_payload_fails_the_signature(key: TestKey) -> None:
    header, _, signature = key.mint(SUBJECT, ["experiments:read"]).split(".")
    claims = jwt.decode(key.mint(SUBJECT), options={"verify_signature": False}) | {"permissions": ["admin"]}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(TokenInvalid, match="Signature"):
        await _verifier(JwksServer(key)).verify(f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.sig"])
async def test_malformed_tokens_are_rejected(key: TestKey, token: str) -> None:
    with pytest.raises(TokenInvalid):
        await _verifier(JwksServer(key)).verify(token)


async def test_missing_or_foreign_authorization_header() -> None:
    verifier = _verifier(JwksServer())

    with pytest.raises(TokenMissing):
        await verifier.authenticate(None)
    with pytest.raises(TokenInvalid, match="Basic"):
        await verifier.authenticate("Basic dXNlcjpwYXNz")


async def test_keys_are_cached(key: TestKey) -> None:
    server = JwksServer(key)
    verifier = _verifier(server)

    for _ in range(5):
        await verifier.verify(key.mint(SUBJECT))

    assert server.requests == 1


async def test_unknown_kid_refetches_once_and_finds_a_rotated_key(key: TestKey) -> None:
    server = JwksServer(key)
    verifier = _verifier(server, min_refetch_s=0)
    await verifier.verify(key.mint(SUBJECT))
    rotated = TestKey("key-2")
    server.keys.append(rotated)

    principal = await verifier.verify(rotated.mint(SUBJECT))

    assert principal.subject == SUBJECT
    assert server.requests == 2


async def test_unknown_kid_refetches_are_rate_limited(key: TestKey) -> None:
    server = JwksServer(key)
    verifier = _verifier(server, min_refetch_s=60)
    await verifier.verify(key.mint(SUBJECT))
    stranger = TestKey("forged")

    for _ in range(20):
        with pytest.raises(TokenInvalid, match="unknown signing key"):
            await verifier.verify(stranger.mint(SUBJECT))

    assert server.requests == 1
