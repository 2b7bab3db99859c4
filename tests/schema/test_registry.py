"""`labs64 schema publish`, `log` and `diff` against the platform's PostgreSQL, run as a user would.

The commands run in their own process with the test platform's settings in the environment. These
tests publish with `--no-rollout`, so the router of the test platform keeps its supergraph; the
hot reload is tested in tests/e2e/test_schema_rollout.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labs64.platform import Platform
from labs64.settings import PlatformSettings
from schema import load_subgraph_sdl

pytestmark = pytest.mark.platform

LABS64 = str(Path(sys.executable).parent / "labs64")

COMPUTE_HOUR_PRICE = '  """Price of one hour of experiment compute."""\n  computeHourPrice: Money!\n'


def labs64(settings: PlatformSettings, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **settings.to_environment(), "APOLLO_TELEMETRY_DISABLED": "true"}
    return subprocess.run([LABS64, *arguments], env=environment, capture_output=True, text=True, timeout=120, check=False)


def history(settings: PlatformSettings) -> list[dict]:
    result = labs64(settings, "schema", "log", "--json", "-n", "100")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def without_compute_hour_price(tmp_path: Path) -> Path:
    sdl = load_subgraph_sdl("billing")
    assert COMPUTE_HOUR_PRICE in sdl
    path = tmp_path / "billing.graphql"
    path.write_text(sdl.replace(COMPUTE_HOUR_PRICE, ""))
    return path


def test_platform_migration_creates_registry(backends: Platform) -> None:
    # `labs64 up` migrates the registry, so the log works before anything was published.
    result = labs64(backends.settings, "schema", "log")

    assert result.returncode == 0, result.stderr


def test_publish_records_version_and_history(backends: Platform, tmp_path: Path) -> None:
    settings = backends.settings
    supergraph_before = settings.supergraph_path.read_text()

    first = labs64(settings, "schema", "publish", "--no-rollout", "-m", "code as it is")
    assert first.returncode == 0, first.stderr
    base = history(settings)[0]["version"]

    second = labs64(settings, "schema", "publish", "--no-rollout", "--subgraph", "billing", "--sdl", str(without_compute_hour_price(tmp_path)), "-m", "drop compute price")
    assert second.returncode == 0, second.stderr
    assert f"published schema version {base + 1}" in second.stdout

    versions = history(settings)
    assert versions[0]["version"] == base + 1
    assert versions[0]["message"] == "drop compute price"
    assert versions[0]["changed_subgraphs"] == ["billing"]
    assert versions[1]["version"] == base
    assert settings.supergraph_path.read_text() == supergraph_before


def test_publish_same_supergraph_creates_no_version(backends: Platform) -> None:
    settings = backends.settings
    assert labs64(settings, "schema", "publish", "--no-rollout").returncode == 0
    newest = history(settings)[0]["version"]

    again = labs64(settings, "schema", "publish", "--no-rollout")

    assert again.returncode == 0, again.stderr
    assert "nothing new was published" in again.stdout
    assert history(settings)[0]["version"] == newest


def test_diff_between_versions(backends: Platform, tmp_path: Path) -> None:
    settings = backends.settings
    assert labs64(settings, "schema", "publish", "--no-rollout").returncode == 0
    old = history(settings)[0]["version"]
    published = labs64(settings, "schema", "publish", "--no-rollout", "--subgraph", "billing", "--sdl", str(without_compute_hour_price(tmp_path)))
    assert published.returncode == 0, published.stderr
    new = history(settings)[0]["version"]

    result = labs64(settings, "schema", "diff", str(old), str(new), "--format", "json", "--unified")

    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    assert diff["changed_subgraphs"] == ["billing"]
    assert [(c["severity"], c["kind"], c["coordinate"]) for c in diff["changes"]] == [
        ("breaking", "FIELD_REMOVED", "Plan.computeHourPrice")
    ]
    assert "-  computeHourPrice: Money!" in diff["unified"]["billing"]

    backwards = labs64(settings, "schema", "diff", str(new), str(old))
    assert backwards.returncode == 0, backwards.stderr
    assert "SAFE" in backwards.stdout
    assert "Field Plan.computeHourPrice was added." in backwards.stdout


def test_diff_unknown_version_is_usage_error(backends: Platform) -> None:
    result = labs64(backends.settings, "schema", "diff", "1", "999999")

    assert result.returncode == 3
    assert "schema version 999999 not found" in result.stderr


def test_publish_refuses_to_break_operations(backends: Platform, tmp_path: Path) -> None:
    settings = backends.settings
    assert labs64(settings, "schema", "publish", "--no-rollout").returncode == 0
    newest = history(settings)[0]["version"]
    sdl = tmp_path / "billing.graphql"
    sdl.write_text(load_subgraph_sdl("billing").replace("  name: String!\n", "", 1))

    result = labs64(settings, "schema", "publish", "--no-rollout", "--subgraph", "billing", "--sdl", str(sdl))

    assert result.returncode == 1
    assert "publish refused" in result.stderr
    assert "PlanCatalogue" in result.stderr
    assert history(settings)[0]["version"] == newest


def test_check_compares_with_registry(backends: Platform, tmp_path: Path) -> None:
    settings = backends.settings
    published = labs64(settings, "schema", "publish", "--no-rollout", "--subgraph", "billing", "--sdl", str(without_compute_hour_price(tmp_path)))
    assert published.returncode == 0, published.stderr
    newest = history(settings)[0]["version"]

    result = labs64(settings, "schema", "check", "--format", "json")

    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["baseline"]["source"].startswith(f"registry version {newest} ")
    assert [(c["severity"], c["coordinate"]) for c in report["changes"]] == [("safe", "Plan.computeHourPrice")]


def test_check_falls_back_without_registry(tmp_path: Path) -> None:
    # Nothing listens on this port, so the check uses the committed supergraph.
    settings = PlatformSettings(data_dir=tmp_path, postgres_port=1)

    result = labs64(settings, "schema", "check", "--format", "json")

    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["baseline"]["source"] == "committed file schema/supergraph.graphql"
    assert "registry not used" in report["baseline"]["note"]
