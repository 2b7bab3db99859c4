"""The generated haproxy.cfg: HAProxy accepts it, and it contains the failover settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.haproxy import HAProxyConfig, render_haproxy_config, write_haproxy_config
from labs64.settings import PlatformSettings


@pytest.fixture
def config(tmp_path: Path) -> HAProxyConfig:
    settings = PlatformSettings(data_dir=tmp_path, router_replica_ports=[4010, 4020], router_replica_health_ports=[8089, 8090])
    return HAProxyConfig.from_settings(settings)


def test_haproxy_accepts_config(config: HAProxyConfig, tmp_path: Path) -> None:
    path = write_haproxy_config(config, tmp_path / "haproxy.cfg")

    result = subprocess.run(["/usr/sbin/haproxy", "-c", "-f", str(path)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_replica_is_a_checked_server(config: HAProxyConfig) -> None:
    text = render_haproxy_config(config)

    assert "server router-1 127.0.0.1:4000 check port 8088" in text
    assert "server router-2 127.0.0.1:4010 check port 8089" in text
    assert "server router-3 127.0.0.1:4020 check port 8090" in text
    assert "option httpchk GET /health?ready" in text


def test_failed_requests_are_retried(config: HAProxyConfig) -> None:
    text = render_haproxy_config(config)

    assert "retry-on conn-failure empty-response response-timeout" in text
    assert "option redispatch" in text


def test_no_replica_rejected(config: HAProxyConfig) -> None:
    with pytest.raises(ValueError, match="at least one router replica"):
        render_haproxy_config(HAProxyConfig(config.host, config.port, config.stats_port, config.stats_socket, []))


def test_mismatched_replica_ports_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="same number of ports"):
        PlatformSettings(data_dir=tmp_path, router_replica_ports=[4010, 4020], router_replica_health_ports=[8089])
