"""Platform settings: one typed model read from ``LABS64_*`` environment variables, then defaults."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PlatformSettings", "get_settings", "REPOSITORY_ROOT", "SUBGRAPH_NAMES"]

#: Root of the source tree: subgraph packages, schema tooling and the default supergraph live here.
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent

#: The platform's modules, in composition order.
SUBGRAPH_NAMES: tuple[str, ...] = ("users", "labs", "billing")


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

    postgres_port: int = Field(55432, description="PostgreSQL port (not the default 5432, so a system server can coexist).")
    postgres_user: str = Field("labs64", description="PostgreSQL role the modules connect as.")
    postgres_password: str = Field("labs64", description="Password of that role (loopback development only).")
    postgres_bin_dir: Path | None = Field(None, description="Directory with initdb and postgres; found under /usr/lib/postgresql when unset.")
    redis_port: int = Field(56379, description="Redis port (not the default 6379).")

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

    fief_port: int = Field(58000, description="Port of the Fief identity server.")
    fief_redis_port: int = Field(56390, description="Port of Fief's own Redis (Fief ignores the database number, so it gets its own).")
    fief_version: str = Field("0.27.0", description="fief-server version, installed from identity/requirements.txt.")
    fief_login_port: int = Field(58001, description="Loopback port `labs64 login` receives Fief's redirect on; registered with the CLI client.")

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
