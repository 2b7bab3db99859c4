"""`labs64 login`, `token` and `whoami` against the test platform's real Fief."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest

from identity.catalog import SEED_PASSWORD
from identity.oauth import submit_login_form
from labs64.dataset import build_dataset, seed_id
from labs64.platform import Platform

LABS64 = Path(sys.executable).parent / "labs64"
USER = build_dataset().users[3]


@pytest.fixture
def environment(backends: Platform, tmp_path: Path) -> dict[str, str]:
    return backends.settings.to_environment() | {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "config")}


def _run(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LABS64), *arguments], capture_output=True, text=True, env=environment, timeout=60)


def test_token_mints_for_a_seeded_user(environment: dict[str, str]) -> None:
    result = _run(environment, "token", "--user", USER.email)

    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["sub"] == str(seed_id("user", 3))
    assert "experiments:write" in claims["permissions"]


def test_token_for_an_unknown_email_names_it(environment: dict[str, str]) -> None:
    result = _run(environment, "token", "--user", "nobody@example.com")

    assert result.returncode == 1
    assert "nobody@example.com" in result.stderr


def test_token_refused_outside_development(environment: dict[str, str]) -> None:
    result = _run(environment | {"LABS64_ROUTER_DEV": "false"}, "token", "--user", USER.email)

    assert result.returncode == 1
    assert "LABS64_ROUTER_DEV=false" in result.stderr
    assert result.stdout == ""


def test_whoami_without_token_fails(environment: dict[str, str]) -> None:
    result = _run(environment, "whoami")

    assert result.returncode == 1
    assert "labs64 login" in result.stderr


def test_login_through_the_browser_flow_then_whoami(environment: dict[str, str]) -> None:
    process = subprocess.Popen(
        [str(LABS64), "login", "--no-browser", "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Open this URL")
        authorize_url = process.stdout.readline().strip()
        redirect_uri = authorize_url.split("redirect_uri=")[1].split("&")[0].replace("%3A", ":").replace("%2F", "/")

        # What the browser does: sign in on Fief's page, then follow the redirect to the CLI.
        location = submit_login_form(authorize_url, redirect_uri, USER.email, SEED_PASSWORD)
        assert httpx.get(location, trust_env=False, timeout=10).status_code == 200
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0, stderr
    assert str(seed_id("user", 3)) in stdout
    saved = Path(environment["XDG_CONFIG_HOME"]) / "labs64" / "token.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    whoami = _run(environment, "whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert USER.email in whoami.stdout
    assert "experiments:read" in whoami.stdout
