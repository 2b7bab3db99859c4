"""The `labs64` command line against the running test platform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labs64.platform import Platform

pytestmark = pytest.mark.platform

LABS64 = Path(sys.executable).parent / "labs64"


def _run(platform: Platform, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LABS64), *arguments], capture_output=True, text=True, env=platform.settings.to_environment() | {"PATH": "/usr/bin:/bin"}, timeout=120)


def test_status_json_lists_every_component(platform: Platform) -> None:
    result = _run(platform, "status", "--json")
    components = {c["name"]: c for c in json.loads(result.stdout)["components"]}

    assert result.returncode == 0, result.stderr
    assert set(components) == {
        "postgres", "redis", "kafka", "fief-redis", "fief", "fief-worker", "users", "labs", "billing",
        "events-relay", "labs-consumer", "billing-consumer", "router-1", "router-2", "haproxy", "edge",
    }
    assert all(c["healthy"] for c in components.values()), components
    assert all(isinstance(c["pid"], int) for c in components.values())
    assert components["router-1"]["url"] == platform.settings.router_url
    assert components["haproxy"]["url"] == platform.settings.haproxy_url
    assert "process state only" in components["fief-worker"]["detail"]


def test_up_is_idempotent(platform: Platform) -> None:
    pids_before = {c["name"]: c["pid"] for c in json.loads(_run(platform, "status", "--json").stdout)["components"]}

    result = _run(platform, "up", "--no-build")
    pids_after = {c["name"]: c["pid"] for c in json.loads(_run(platform, "status", "--json").stdout)["components"]}

    assert result.returncode == 0, result.stderr
    assert pids_after == pids_before


def test_logs_shows_component_output(platform: Platform) -> None:
    result = _run(platform, "logs", "users", "--lines", "5")

    assert result.returncode == 0
    assert result.stdout.strip()


def test_seed_refuses_to_overwrite(platform: Platform) -> None:
    result = _run(platform, "seed")

    assert result.returncode == 1
    assert "--reset" in result.stderr
