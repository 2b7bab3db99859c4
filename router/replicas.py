"""Router replicas: identical Apollo Routers on their own ports, balanced by HAProxy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labs64.settings import PlatformSettings

__all__ = ["RouterReplica", "router_replicas"]


@dataclass(frozen=True)
class RouterReplica:
    """One router process: its supervisord program name, ports and generated configuration file."""

    name: str
    host: str
    port: int
    health_port: int
    config_path: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.health_port}/health?ready"


def router_replicas(settings: PlatformSettings) -> list[RouterReplica]:
    """Every replica, ``router-1`` first; ``router-1`` uses router_port and router.yaml."""
    ports = [(settings.router_port, settings.router_health_port)]
    ports.extend(zip(settings.router_replica_ports, settings.router_replica_health_ports, strict=True))
    replicas = []
    for number, (port, health_port) in enumerate(ports, start=1):
        config_path = settings.router_config_path if number == 1 else settings.run_dir / f"router-{number}.yaml"
        replicas.append(RouterReplica(f"router-{number}", settings.host, port, health_port, config_path))
    return replicas
