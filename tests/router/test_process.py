"""Command line and environment the router is started with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from labs64.settings import PlatformSettings, get_settings
from router.cli import router_group
from router.process import RouterConfigInvalid, router_command, router_environment, validate_config


def test_environment_removes_otlp_and_graphos() -> None:
    base = {
        "PATH": "/usr/bin",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317",
        "OTEL_EXPORTER_OTLP_HEADERS": "x=y",
        "OTEL_SERVICE_NAME": "router",
        "APOLLO_KEY": "service:graph:secret",
        "APOLLO_GRAPH_REF": "graph@current",
        "APOLLO_ROUTER_LICENSE_PATH": "/etc/licence.jwt",
    }

    env = router_environment(base)

    assert env == {
        "PATH": "/usr/bin",
        "OTEL_SERVICE_NAME": "router",
        "APOLLO_ROUTER_LICENSE_PATH": "/etc/licence.jwt",
        "APOLLO_TELEMETRY_DISABLED": "true",
    }


def test_environment_overrides_telemetry_setting() -> None:
    env = router_environment({"APOLLO_TELEMETRY_DISABLED": "false"})

    assert env["APOLLO_TELEMETRY_DISABLED"] == "true"


def test_environment_leaves_base_unchanged() -> None:
    base = {"APOLLO_KEY": "secret"}

    router_environment(base)

    assert base == {"APOLLO_KEY": "secret"}


def test_command_uses_cached_binary(tmp_path: Path) -> None:
    settings = PlatformSettings(cache_dir=tmp_path, router_version="2.13.1")

    command = router_command(settings, tmp_path / "router.yaml")

    assert command == [
        str(tmp_path / "router" / "2.13.1" / "bin" / "router"),
        "--config",
        str(tmp_path / "router.yaml"),
        "--supergraph",
        str(settings.supergraph_path),
        "--hot-reload",
    ]


def test_command_with_license(tmp_path: Path) -> None:
    settings = PlatformSettings(router_binary=tmp_path / "router")

    command = router_command(settings, tmp_path / "router.yaml", license_path=tmp_path / "licence.jwt")

    assert command[0] == str(tmp_path / "router")
    assert command[-2:] == ["--license", str(tmp_path / "licence.jwt")]


def make_fake_router(directory: Path, exit_status: int, output: str) -> Path:
    """Write a stand-in for the router binary that prints ``output`` and exits with ``exit_status``."""
    binary = directory / "router"
    binary.write_text(
        f"#!/bin/sh\necho \"$@\" > {directory}/router-arguments.txt\necho '{output}'\nexit {exit_status}\n"
    )
    binary.chmod(0o755)
    return binary


def test_validate_config_accepts_valid(tmp_path: Path) -> None:
    binary = make_fake_router(tmp_path, 0, "Configuration at path is valid!")

    validate_config(binary, tmp_path / "router.yaml")

    assert (tmp_path / "router-arguments.txt").read_text().split() == [
        "config",
        "validate",
        str(tmp_path / "router.yaml"),
    ]


def test_validate_config_raises_invalid(tmp_path: Path) -> None:
    binary = make_fake_router(tmp_path, 1, "unknown field listen_address")

    with pytest.raises(RouterConfigInvalid) as raised:
        validate_config(binary, tmp_path / "router.yaml")

    assert raised.value.path == tmp_path / "router.yaml"
    assert "unknown field listen_address" in raised.value.output
    assert "invalid router configuration" in str(raised.value)


def test_validate_config_missing_binary(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="labs64 router build"):
        validate_config(tmp_path / "missing-router", tmp_path / "router.yaml")


@pytest.fixture
def cli_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the cached platform settings at a fake router binary for the CLI, and reset them after."""
    monkeypatch.setenv("LABS64_ROUTER_BINARY", str(tmp_path / "router"))
    monkeypatch.delenv("APOLLO_ROUTER_LICENSE", raising=False)
    monkeypatch.delenv("APOLLO_ROUTER_LICENSE_PATH", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_config_prints_yaml(cli_settings: Path) -> None:
    result = CliRunner().invoke(router_group, ["config"])

    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["supergraph"]["path"] == "/"


def test_cli_config_validates_and_writes(cli_settings: Path) -> None:
    make_fake_router(cli_settings, 0, "valid")
    output = cli_settings / "router.yaml"

    result = CliRunner().invoke(router_group, ["config", "--output", str(output), "--validate"])

    assert result.exit_code == 0, result.output
    assert f"router configuration written to {output}" in result.output
    assert "supergraph" in yaml.safe_load(output.read_text())


def test_cli_config_invalid_keeps_file(cli_settings: Path) -> None:
    make_fake_router(cli_settings, 1, "unknown field")
    output = cli_settings / "router.yaml"
    output.write_text("previous: true\n")

    result = CliRunner().invoke(router_group, ["config", "--output", str(output), "--validate"])

    assert result.exit_code == 1
    assert "rejected by `router config validate`" in result.output
    assert "unknown field" in result.output
    assert output.read_text() == "previous: true\n"
