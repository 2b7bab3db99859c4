"""`labs64 schema publish` rolls the new supergraph out, and the running router hot-reloads it."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from labs64.platform import Platform
from schema import load_subgraph_sdl

pytestmark = pytest.mark.platform

LABS64 = str(Path(sys.executable).parent / "labs64")

COMPUTE_HOUR_PRICE = '  """Price of one hour of experiment compute."""\n  computeHourPrice: Money!\n'
QUERY = "{ plans { code computeHourPrice { amountCents currency } } }"

# The router watches the supergraph file; a reload takes about a second. The bound leaves room for
# a slow machine and still ends a test whose reload never happens.
RELOAD_TIMEOUT_S = 60.0


async def publish(platform: Platform, *arguments: str) -> str:
    environment = {**os.environ, **platform.settings.to_environment(), "APOLLO_TELEMETRY_DISABLED": "true"}
    process = await asyncio.create_subprocess_exec(
        LABS64, "schema", "publish", *arguments,
        env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def wait_for_response(client: httpx.AsyncClient, served: bool) -> dict:
    """Poll until the router serves `Plan.computeHourPrice` (``served``) or rejects it, and return the body."""
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    while True:
        body = (await client.post("/", json={"query": QUERY})).json()
        codes = {error.get("extensions", {}).get("code") for error in body.get("errors", [])}
        rejected = "GRAPHQL_VALIDATION_FAILED" in codes
        if served != rejected:
            return body
        assert time.monotonic() < deadline, f"the router did not reload within {RELOAD_TIMEOUT_S} s: {body}"
        await asyncio.sleep(0.5)


async def test_publish_hot_reloads_router(platform: Platform, router_client: httpx.AsyncClient, tmp_path: Path) -> None:
    reduced = tmp_path / "billing.graphql"
    reduced.write_text(load_subgraph_sdl("billing").replace(COMPUTE_HOUR_PRICE, ""))

    try:
        output = await publish(platform, "--subgraph", "billing", "--sdl", str(reduced), "-m", "hide compute price")
        assert f"rolled out to {platform.settings.supergraph_path}" in output
        hidden = await wait_for_response(router_client, served=False)
        assert "computeHourPrice" in hidden["errors"][0]["message"]
    finally:
        # Publishing the code as it is brings the field back for the rest of the suite.
        output = await publish(platform, "-m", "code as it is")

    assert "rolled out" in output
    body = await wait_for_response(router_client, served=True)
    assert "errors" not in body, body["errors"]
    prices = {plan["code"]: plan["computeHourPrice"] for plan in body["data"]["plans"]}
    assert set(prices) == {"free", "team", "enterprise"}
    assert all(price["currency"] == "EUR" for price in prices.values())
