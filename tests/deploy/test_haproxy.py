"""HAProxy in front of two router replicas: balancing, request ids, failover and rolling restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from deploy.haproxy import HAProxyRuntime
from deploy.haproxy.config import ROUTERS_BACKEND
from labs64.platform import Platform
from tests.deploy.load import run_load

pytestmark = pytest.mark.platform

LABS64 = Path(sys.executable).parent / "labs64"


def _signed_in(seeded_token: Callable[[int], str]) -> dict[str, str]:
    # The load query reads users, which needs a signed-in caller.
    return {"Authorization": f"Bearer {seeded_token(0)}"}


def _pids(platform: Platform) -> dict[str, int]:
    return {info["name"]: info["pid"] for info in platform.supervisor.process_info()}


def _wait_all_up(platform: Platform, timeout_s: float = 120) -> None:
    runtime = HAProxyRuntime(platform.settings.run_dir / "haproxy.sock")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        servers = runtime.servers(ROUTERS_BACKEND)
        if servers and all(server.up for server in servers.values()):
            return
        time.sleep(0.5)
    raise AssertionError(f"router replicas not all UP after {timeout_s} s: {runtime.servers(ROUTERS_BACKEND)}")


async def test_haproxy_sets_request_id(platform: Platform) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.post(
            platform.settings.haproxy_url, json={"query": "{ __typename }"}, headers={"x-request-id": "client-chosen"}
        )

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["x-request-id"]
    assert response.headers["x-request-id"] != "client-chosen"


async def test_haproxy_live_route_has_no_server_yet(platform: Platform) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(f"{platform.settings.haproxy_url}live/updates")

    assert response.status_code == 503


async def test_haproxy_stats_page(platform: Platform) -> None:
    stats_url = f"http://{platform.settings.host}:{platform.settings.haproxy_stats_port}/stats;csv"
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(stats_url)

    assert response.status_code == 200
    assert "routers,router-1," in response.text
    assert "routers,router-2," in response.text


async def test_killed_replica_fails_no_request(platform: Platform, seeded_token: Callable[[int], str]) -> None:
    _wait_all_up(platform)
    victim = _pids(platform)["router-2"]
    killed_after: list[int] = []

    async def kill_once(sent: int) -> None:
        if sent >= 60 and not killed_after:
            killed_after.append(sent)
            os.kill(victim, signal.SIGKILL)

    result = await run_load(
        platform.settings.haproxy_url, requests=300, concurrency=8, on_progress=kill_once, headers=_signed_in(seeded_token)
    )

    assert killed_after, "the replica was never killed"
    assert result.failures == []
    assert result.succeeded == 300
    # supervisord restarts the killed replica; the next tests need both replicas again.
    _wait_all_up(platform)
    assert _pids(platform)["router-2"] != victim


async def test_rolling_restart_fails_no_request(platform: Platform, seeded_token: Callable[[int], str]) -> None:
    _wait_all_up(platform)
    pids_before = _pids(platform)
    restart = subprocess.Popen(
        [str(LABS64), "router", "restart"],
        env=platform.settings.to_environment() | {"PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    # The load stops when the restart has finished, or after 3,000 requests.
    result = await run_load(
        platform.settings.haproxy_url,
        requests=3000,
        concurrency=4,
        should_stop=lambda: restart.poll() is not None,
        pause_s=0.02,
        headers=_signed_in(seeded_token),
    )
    output, _ = await asyncio.to_thread(restart.communicate, timeout=300)
    pids_after = _pids(platform)

    assert restart.returncode == 0, output
    assert result.failures == []
    assert result.sent > 50
    assert pids_after["router-1"] != pids_before["router-1"]
    assert pids_after["router-2"] != pids_before["router-2"]
    assert "router-2: healthy and back in rotation" in output
