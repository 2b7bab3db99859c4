"""The edge's CDN cache of persisted queries, in front of the real HAProxy and routers."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from deploy.edge import EdgeConfig, load_operations
from deploy.haproxy import HAProxyRuntime
from labs64.platform import Platform
from tests.deploy.conftest import new_client_address
from tests.deploy.servers import LocalServer

pytestmark = pytest.mark.platform

LABS64 = Path(sys.executable).parent / "labs64"
OPERATIONS = {operation.name: operation for operation in load_operations()}


def _get(base_url: str, name: str, variables: dict | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    params = {"id": OPERATIONS[name].id}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    all_headers = {"cf-connecting-ip": new_client_address(), **(headers or {})}
    return httpx.get(base_url, params=params, headers=all_headers, timeout=30, trust_env=False)


def _routed_requests(platform: Platform) -> int:
    """Requests HAProxy has sent to the router replicas since it started."""
    text = HAProxyRuntime(platform.settings.run_dir / "haproxy.sock").command("show stat").lstrip("# ")
    row = next(row for row in csv.DictReader(io.StringIO(text)) if row["pxname"] == "routers" and row["svname"] == "BACKEND")
    return int(row["stot"])


def _purge(platform: Platform, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LABS64), "edge", "purge", *arguments],
        capture_output=True,
        text=True,
        env=platform.settings.to_environment() | {"PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_repeated_get_served_from_cache(platform: Platform) -> None:
    _purge(platform, "Plans")
    first = _get(platform.settings.edge_url, "Plans")
    routed_after_first = _routed_requests(platform)

    second = _get(platform.settings.edge_url, "Plans")

    assert first.status_code == 200, first.text
    assert first.headers["x-labs64-cache"] == "MISS"
    assert first.headers["cache-control"] == "public, max-age=300"
    assert second.status_code == 200
    assert second.headers["x-labs64-cache"] == "HIT"
    assert second.json() == first.json()
    assert first.json()["data"]["plans"]
    assert _routed_requests(platform) == routed_after_first


def test_cache_hit_reports_its_age(platform: Platform) -> None:
    variables = {"code": f"age-{uuid.uuid4().hex[:8]}"}
    first = _get(platform.settings.edge_url, "PlanByCode", variables)
    time.sleep(2.2)

    hit = _get(platform.settings.edge_url, "PlanByCode", variables)

    assert first.headers["x-labs64-cache"] == "MISS"
    assert hit.headers["x-labs64-cache"] == "HIT"
    age = int(hit.headers["age"])
    assert 2 <= age <= 10
    assert hit.headers["cache-control"] == f"public, max-age={60 - age}"
    assert "x-labs64-stored-at" not in hit.headers


def test_variables_get_their_own_entry(platform: Platform) -> None:
    _purge(platform, "PlanByCode")
    codes = [plan["code"] for plan in _get(platform.settings.edge_url, "Plans").json()["data"]["plans"]]

    first = _get(platform.settings.edge_url, "PlanByCode", {"code": codes[0]})
    other = _get(platform.settings.edge_url, "PlanByCode", {"code": codes[1]})
    again = _get(platform.settings.edge_url, "PlanByCode", {"code": codes[0]})

    assert first.headers["x-labs64-cache"] == "MISS"
    assert other.headers["x-labs64-cache"] == "MISS"
    assert again.headers["x-labs64-cache"] == "HIT"
    assert other.json()["data"]["plan"]["code"] == codes[1]
    assert again.json()["data"]["plan"]["code"] == codes[0]


def test_authorized_request_bypasses_cache(platform: Platform, seeded_token: Callable[[int], str]) -> None:
    _get(platform.settings.edge_url, "Plans")
    routed_before = _routed_requests(platform)
    headers = {"authorization": f"Bearer {seeded_token(1)}"}

    responses = [_get(platform.settings.edge_url, "Plans", headers=headers) for _ in range(2)]

    assert [r.headers["x-labs64-cache"] for r in responses] == ["BYPASS", "BYPASS"]
    assert [r.headers["cache-control"] for r in responses] == ["private, no-store"] * 2
    assert _routed_requests(platform) == routed_before + 2


def test_authorized_response_not_stored(echo_edge: EdgeConfig, echo_origin: LocalServer) -> None:
    headers = {"authorization": "Bearer user-a"}
    _get(echo_edge.url, "PlanByCode", {"code": "authorized-only"}, headers=headers)
    origin_requests = len(echo_origin.requests)

    anonymous = _get(echo_edge.url, "PlanByCode", {"code": "authorized-only"})

    assert anonymous.headers["x-labs64-cache"] == "MISS"
    assert len(echo_origin.requests) == origin_requests + 1


def test_uncached_operation_not_stored(platform: Platform) -> None:
    responses = [_get(platform.settings.edge_url, "UserByEmail", {"email": "nobody@example.com"}) for _ in range(2)]

    assert [r.headers["x-labs64-cache"] for r in responses] == ["BYPASS", "BYPASS"]
    # The second response comes from the router, not from a stored copy, because without a token
    # the users module rejects the field.
    body = responses[1].json()
    assert body["data"] == {"userByEmail": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


def test_purge_empties_cache(platform: Platform) -> None:
    _get(platform.settings.edge_url, "Plans")
    assert _get(platform.settings.edge_url, "Plans").headers["x-labs64-cache"] == "HIT"

    result = _purge(platform, "Plans")
    after = _get(platform.settings.edge_url, "Plans")

    assert result.returncode == 0, result.stderr
    assert after.headers["x-labs64-cache"] == "MISS"


def test_purge_needs_secret(platform: Platform) -> None:
    response = httpx.post(
        f"{platform.settings.edge_url}__edge/purge", json={"all": True}, headers={"authorization": "Bearer guessed"}, trust_env=False
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_unknown_persisted_id(platform: Platform) -> None:
    response = httpx.get(platform.settings.edge_url, params={"id": "0" * 64}, trust_env=False)

    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_mutation_over_get_rejected(platform: Platform) -> None:
    response = httpx.get(platform.settings.edge_url, params={"query": "mutation { __typename }"}, trust_env=False)

    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_tracing_headers_stripped(echo_edge: EdgeConfig, echo_origin: LocalServer) -> None:
    tracing = {
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "tracestate": "vendor=opaque",
        "b3": "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
        "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
        "x-b3-spanid": "e457b5a2e4d86bd1",
        "uber-trace-id": "5e9b2f1a:1:0:1",
        "x-request-id": "client-chosen",
    }
    client = new_client_address()

    response = httpx.post(
        echo_edge.url,
        json={"query": "{ __typename }"},
        headers={**tracing, "cf-connecting-ip": client, "x-custom": "kept"},
        trust_env=False,
    )
    received = {name.lower(): value for name, value in echo_origin.requests[-1]["headers"].items()}

    assert response.status_code == 200
    assert set(tracing) & set(received) == set()
    assert received["x-custom"] == "kept"
    assert received["x-forwarded-for"] == client


def test_live_path_forwarded_to_haproxy(platform: Platform) -> None:
    response = httpx.get(f"{platform.settings.edge_url}live/updates", headers={"cf-connecting-ip": new_client_address()}, trust_env=False)

    # HAProxy's live backend has no server yet, so its 503 shows the request went through.
    assert response.status_code == 503
    assert "Service Unavailable" in response.text
    assert "x-labs64-cache" not in response.headers
