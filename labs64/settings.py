"""Platform settings: one typed model read from ``LABS64_*`` environment variables, then defaults."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PlatformSettings", "get_settings", "REPOSITORY_ROOT", "SUBGRAPH_NAMES", "CONSUMER_MODULES"]

#: Root of the source tree: subgraph packages, schema tooling and the default supergraph live here.
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent

#: The platform's modules, in composition order.
SUBGRAPH_NAMES: tuple[str, ...] = ("users", "labs", "billing")

#: Modules that react to other modules' events, each with its own Kafka consumer group.
CONSUMER_MODULES: tuple[str, ...] = ("labs", "billing")


def _default_data_dir() -> Path:
    # PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` system user, which
    # cannot enter /root (mode 0700). A root install therefore keeps its data under /var/lib.
    if os.geteuid() == 0:
        return Path("/var/lib/labs64")
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "labs64"


def _default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "labs64"


class PlatformSettings(BaseSettings):
    """Everything a local platform needs: addresses, ports, directories and pinned versions."""

    model_config = SettingsConfigDict(env_prefix="LABS64_", extra="ignore")

    host: str = Field("127.0.0.1", description="Loopback address every component listens on.")
    data_dir: Path = Field(default_factory=_default_data_dir, description="Databases, logs and runtime state.")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Built router binaries and other build caches.")

    # Every default port lies below 32768, outside Linux's default ephemeral range (32768-60999):
    # a server cannot bind a port that an outgoing connection happens to be using.
    postgres_port: int = Field(15432, description="PostgreSQL port (not the default 5432, so a system server can coexist).")
    postgres_user: str = Field("labs64", description="PostgreSQL role the modules connect as.")
    postgres_password: str = Field("labs64", description="Password of that role (loopback development only).")
    postgres_bin_dir: Path | None = Field(None, description="Directory with initdb and postgres; found under /usr/lib/postgresql when unset.")
    redis_port: int = Field(16379, description="Redis port (not the default 6379).")

    users_port: int = Field(4101, description="Port of the users subgraph.")
    labs_port: int = Field(4102, description="Port of the labs subgraph.")
    billing_port: int = Field(4103, description="Port of the billing subgraph.")

    router_port: int = Field(4000, description="Port the Apollo Router serves GraphQL on.")
    router_health_port: int = Field(8088, description="Port of the router's health check endpoint.")
    router_version: str = Field("2.13.1", description="Version of the apollo-router crate to build and run.")
    router_binary: Path | None = Field(None, description="Use this router binary instead of the cached build.")
    supergraph_path: Path = Field(
        default_factory=lambda: REPOSITORY_ROOT / "schema" / "supergraph.graphql",
        description="Composed supergraph the router serves and hot-reloads.",
    )
    router_dev: bool = Field(True, description="Development mode: expose query plans and subgraph error details.")

    kafka_port: int = Field(19092, description="Port of the Kafka broker's client listener.")
    kafka_controller_port: int = Field(19093, description="Port of the Kafka KRaft controller listener.")
    kafka_version: str = Field("4.1.2", description="Apache Kafka version whose jars are fetched from Maven Central and run.")
    kafka_heap: str = Field("512m", description="Maximum Java heap of the Kafka broker (the JVM's -Xmx value).")
    router_replica_ports: list[int] = Field(
        [4010], description="GraphQL ports of the router replicas after the first, which uses router_port."
    )
    router_replica_health_ports: list[int] = Field(
        [8089], description="Health check ports of those replicas, in the same order."
    )
    haproxy_port: int = Field(8080, description="Port HAProxy balances GraphQL requests on, over the router replicas.")
    haproxy_stats_port: int = Field(8404, description="Port of HAProxy's statistics page (/stats) and its own health check.")
    edge_port: int = Field(8787, description="Port of the local edge Worker (workerd), the platform's public address.")
    edge_jwks_url: str | None = Field(
        None, description="JWKS URL the edge Worker verifies bearer tokens against; unset, Fief's, once bootstrapped."
    )
    edge_jwt_issuer: str | None = Field(None, description="Expected `iss` of bearer tokens; unset, Fief's issuer.")
    edge_jwt_audience: str | None = Field(
        None, description="Accepted `aud` values of bearer tokens, comma-separated; unset, Fief's client ids."
    )
    edge_purge_secret: str = Field(
        "labs64-local-purge-secret", description="Shared secret that authorizes cache purges at the edge (change it in production)."
    )
    fief_port: int = Field(18000, description="Port of the Fief identity server.")
    fief_redis_port: int = Field(16390, description="Port of Fief's own Redis (Fief ignores the database number, so it gets its own).")
    fief_version: str = Field("0.27.0", description="fief-server version, installed from identity/requirements.txt.")
    fief_login_port: int = Field(18001, description="Loopback port `labs64 login` receives Fief's redirect on; registered with the CLI client.")

    startup_timeout_s: float = Field(120.0, description="Seconds `up` waits for every health check.")

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def redis_data_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def router_config_path(self) -> Path:
        return self.run_dir / "router.yaml"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def postgres_data_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def kafka_data_dir(self) -> Path:
        return self.data_dir / "kafka"

    def heartbeat_path(self, program: str) -> Path:
        """File an event program touches while it works; its age is the program's liveness."""
        return self.run_dir / f"{program}.heartbeat"

    @property
    def kafka_bootstrap_servers(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def fief_data_dir(self) -> Path:
        return self.data_dir / "fief"

    @property
    def fief_url(self) -> str:
        return f"http://{self.host}:{self.fief_port}"


    def subgraph_port(self, name: str) -> int:
        return int(getattr(self, f"{name}_port"))

    def subgraph_url(self, name: str) -> str:
        return f"http://{self.host}:{self.subgraph_port(name)}/graphql"

    def database_name(self, subgraph: str) -> str:
        return f"labs64_{subgraph}"

    def database_url(self, subgraph: str) -> str:
        """SQLAlchemy URL of the database a module owns."""
        return (
            f"postgresql+asyncpg://{self.postgres_user}:{self.postgres_password}"
            f"@{self.host}:{self.postgres_port}/{self.database_name(subgraph)}"
        )

    @property
    def router_url(self) -> str:
        return f"http://{self.host}:{self.router_port}/"

    @property
    def router_health_url(self) -> str:
        return f"http://{self.host}:{self.router_health_port}/health?ready"

    @model_validator(mode="after")
    def _check_replica_ports(self) -> PlatformSettings:
        if len(self.router_replica_ports) != len(self.router_replica_health_ports):
            raise ValueError(
                f"LABS64_ROUTER_REPLICA_PORTS {self.router_replica_ports} and LABS64_ROUTER_REPLICA_HEALTH_PORTS "
                f"{self.router_replica_health_ports} must list the same number of ports, one pair per extra replica"
            )
        return self

    @property
    def haproxy_url(self) -> str:
        return f"http://{self.host}:{self.haproxy_port}/"

    @property
    def edge_url(self) -> str:
        return f"http://{self.host}:{self.edge_port}/"

    def to_environment(self) -> dict[str, str]:
        """Render these settings as ``LABS64_*`` variables, so child processes see the same values."""
        environment = {}
        for name, value in self.model_dump().items():
            if value is not None:
                environment[f"LABS64_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        return environment


@lru_cache(maxsize=1)
def get_settings() -> PlatformSettings:
    return PlatformSettings()
