"""Render ``haproxy.cfg`` from ``haproxy.cfg.in`` and the platform settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from labs64.settings import PlatformSettings
from router.replicas import RouterReplica, router_replicas
from schema.composition import write_text_atomic

__all__ = ["HAProxyConfig", "render_haproxy_config", "write_haproxy_config", "ROUTERS_BACKEND"]

TEMPLATE_PATH = Path(__file__).with_name("haproxy.cfg.in")

#: Name of the backend that contains the router replicas, as the runtime API addresses it.
ROUTERS_BACKEND = "routers"


@dataclass(frozen=True)
class HAProxyConfig:
    """The values the template needs: listen addresses, limits and the router replicas."""

    host: str
    port: int
    stats_port: int
    stats_socket: Path
    replicas: list[RouterReplica] = field(default_factory=list)
    global_maxconn: int = 4096
    frontend_maxconn: int = 2048
    server_maxconn: int = 256

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> HAProxyConfig:
        return cls(
            host=settings.host,
            port=settings.haproxy_port,
            stats_port=settings.haproxy_stats_port,
            stats_socket=settings.run_dir / "haproxy.sock",
            replicas=router_replicas(settings),
        )


def render_haproxy_config(config: HAProxyConfig) -> str:
    """Return the text of ``haproxy.cfg``; raise ValueError when no replica is configured."""
    if not config.replicas:
        raise ValueError("HAProxy needs at least one router replica to balance over")
    # The health check goes to each replica's health port, while requests go to its GraphQL port.
    servers = "\n".join(
        f"    server {replica.name} {replica.host}:{replica.port} check port {replica.health_port}"
        for replica in config.replicas
    )
    template = Template(TEMPLATE_PATH.read_text())
    return template.substitute(
        host=config.host,
        port=config.port,
        stats_port=config.stats_port,
        stats_socket=config.stats_socket,
        global_maxconn=config.global_maxconn,
        frontend_maxconn=config.frontend_maxconn,
        server_maxconn=config.server_maxconn,
        router_servers=servers,
    )


def write_haproxy_config(config: HAProxyConfig, path: Path) -> Path:
    write_text_atomic(Path(path), render_haproxy_config(config))
    return Path(path)
