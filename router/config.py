"""Typed Apollo Router configuration, rendered to ``router.yaml``.

The keys follow the configuration JSON Schema of apollo-router 2.13.1 (``router config schema``,
also stored in the crate as ``src/configuration/snapshots/..._schema_generation.snap``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labs64.settings import SUBGRAPH_NAMES, PlatformSettings, get_settings
from schema.composition import write_text_atomic

__all__ = [
    "LICENSED_FEATURES",
    "CorsConfig",
    "LicensedFeature",
    "RouterConfig",
    "TrafficShapingConfig",
    "write_router_config",
]

#: Environment variables through which the router reads a GraphOS licence (apollo-router 2.13.1
#: ``executable.rs``): the licence itself, or the path of a file that contains it.
LICENSE_ENVIRONMENT_VARIABLES = ("APOLLO_ROUTER_LICENSE", "APOLLO_ROUTER_LICENSE_PATH")


class LicensedFeature(BaseModel):
    """A router feature that needs a GraphOS licence, and the config key that turns it on."""

    model_config = ConfigDict(frozen=True)

    path: tuple[str, ...]
    name: str

    @property
    def key(self) -> str:
        return ".".join(self.path)


# Taken from `LicenseEnforcementReport::configuration_restrictions` in apollo-router 2.13.1
# (src/uplink/license_enforcement.rs). Without a licence the router exits at startup when any of
# these keys is present. For `subscription`, `preview_entity_cache` and `response_cache` the router
# only objects to `enabled: true`, but this check rejects the whole section, because a section
# that is not enabled does nothing and a rule on the key alone is easier to follow.
# `preview_response_cache` is the pre-GA name that router 2.13.1 migrates to `response_cache` when it
# loads a configuration. `preview_demand_control` is not a 2.13.1 key at all, but demand control
# needs a licence under any name, so it gets the same clear message.
LICENSED_FEATURES: tuple[LicensedFeature, ...] = tuple(
    LicensedFeature(path=tuple(key.split(".")), name=name)
    for key, name in (
        ("subscription", "federated subscriptions"),
        ("authentication.router", "JWT authentication"),
        ("coprocessor", "coprocessors"),
        ("preview_entity_cache", "entity caching"),
        ("response_cache", "response caching"),
        ("preview_response_cache", "response caching"),
        ("persisted_queries", "persisted queries and safelisting"),
        ("apq.router.cache.redis", "Redis cache for automatic persisted queries"),
        ("supergraph.query_planning.cache.redis", "Redis cache for query plans"),
        ("demand_control", "demand control"),
        ("preview_demand_control", "demand control"),
        ("batching", "query batching"),
        ("authorization.directives", "authorization directives"),
        ("limits.max_depth", "operation depth limit"),
        ("limits.max_height", "operation height limit"),
        ("limits.max_aliases", "operation alias limit"),
        ("limits.max_root_fields", "operation root field limit"),
    )
)


def _format_duration(seconds: float) -> str:
    """Format seconds the way the router's duration fields expect them (``30s``, ``1500ms``)."""
    milliseconds = round(seconds * 1000)
    if milliseconds % 1000 == 0:
        return f"{milliseconds // 1000}s"
    return f"{milliseconds}ms"


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in: nested mappings merge, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _has_key(document: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = document
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class CorsConfig(BaseModel):
    """Browser origins allowed to call the router (CORS)."""

    model_config = ConfigDict(extra="forbid")

    origins: list[str] = Field(description="Exact origins allowed, such as http://127.0.0.1:4000.")
    allow_credentials: bool = Field(
        True, description="Send Access-Control-Allow-Credentials, so browsers pass cookies."
    )

    @field_validator("origins")
    @classmethod
    def _reject_wildcard(cls, origins: list[str]) -> list[str]:
        # The router itself rejects "*" in an origin list (apollo-router 2.13.1, cors.rs), and a
        # wildcard together with credentials would let any site act as the signed-in user.
        for origin in origins:
            if "*" in origin:
                raise ValueError(
                    f"invalid CORS origin {origin!r}: the router accepts exact origins only; "
                    "list each origin, or use extra={'cors': {'policies': [{'match_origins': [REGEX]}]}}"
                )
        return origins


class TrafficShapingConfig(BaseModel):
    """Timeouts and request deduplication, for client requests and for subgraph requests."""

    model_config = ConfigDict(extra="forbid")

    router_timeout_s: float = Field(60.0, gt=0, description="Seconds the router spends on a client request.")
    subgraph_timeout_s: float = Field(30.0, gt=0, description="Seconds the router waits for each subgraph request.")
    deduplicate_query: bool = Field(True, description="Send identical in-flight subgraph queries only once.")


class RouterConfig(BaseModel):
    """Everything this platform sets in ``router.yaml``, plus an ``extra`` mapping for the rest.

    Validation rejects keys that need a GraphOS licence (see LICENSED_FEATURES) unless a licence is
    configured, because the router would otherwise exit at startup.
    """

    model_config = ConfigDict(extra="forbid")

    listen: str = Field("127.0.0.1:4000", description="host:port the router serves GraphQL on.")
    path: str = Field("/", description="HTTP path of the GraphQL endpoint.")
    health_check_listen: str = Field("127.0.0.1:8088", description="host:port of the /health endpoint.")
    subgraph_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Routing URL per subgraph name, overriding the URLs stored in the supergraph.",
    )
    cors: CorsConfig = Field(default_factory=lambda: CorsConfig(origins=["http://127.0.0.1:4000"]))
    propagate_headers: list[str] = Field(
        default_factory=lambda: ["Authorization", "x-request-id"],
        description="Client request headers forwarded to every subgraph.",
    )
    traffic_shaping: TrafficShapingConfig = Field(default_factory=TrafficShapingConfig)
    dev: bool = Field(
        True,
        description="Development mode: introspection, subgraph error details and query plans on request.",
    )
    license: Path | None = Field(
        None,
        description="GraphOS licence file, passed to the router with --license; it is not part of router.yaml.",
    )
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="Further router.yaml keys, deep-merged over the generated ones.",
    )

    @classmethod
    def from_settings(cls, settings: PlatformSettings | None = None, **overrides: Any) -> RouterConfig:
        """Build the platform's default configuration from the settings; keyword arguments override fields."""
        settings = settings or get_settings()
        values: dict[str, Any] = {
            "listen": f"{settings.host}:{settings.router_port}",
            "health_check_listen": f"{settings.host}:{settings.router_health_port}",
            "subgraph_urls": {name: settings.subgraph_url(name) for name in SUBGRAPH_NAMES},
            "cors": CorsConfig(origins=_default_cors_origins(settings)),
            "dev": settings.router_dev,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def licensed(self) -> bool:
        """Whether a GraphOS licence is configured, here or in the router's environment variables."""
        return self.license is not None or any(os.environ.get(name) for name in LICENSE_ENVIRONMENT_VARIABLES)

    @model_validator(mode="after")
    def _reject_licensed_features(self) -> RouterConfig:
        if self.licensed:
            return self
        document = self.to_dict()
        in_use = [feature for feature in LICENSED_FEATURES if _has_key(document, feature.path)]
        if not in_use:
            return self
        lines = [
            (
                "the router configuration uses features that need a GraphOS licence, "
                "and Apollo Router exits at startup when they are set without a licence:"
            )
        ]
        lines.extend(f"  - {feature.key} ({feature.name})" for feature in in_use)
        lines.append(
            "Remove these keys from RouterConfig.extra, or configure a licence: set RouterConfig.license "
            "to the licence file, or set APOLLO_ROUTER_LICENSE or APOLLO_ROUTER_LICENSE_PATH."
        )
        raise ValueError("\n".join(lines))

    def to_dict(self) -> dict[str, Any]:
        """Render the ``router.yaml`` document as plain data (``extra`` merged in)."""
        shaping = self.traffic_shaping
        document: dict[str, Any] = {
            "supergraph": {
                "listen": self.listen,
                "path": self.path,
                # Explorers such as GraphiQL need introspection, but it reveals the whole schema.
                "introspection": self.dev,
            },
            "health_check": {
                "enabled": True,
                "listen": self.health_check_listen,
                "path": "/health",
            },
            # The landing page and Sandbox load their code from Apollo's CDN and stay blank offline.
            "homepage": {"enabled": False},
            "sandbox": {"enabled": False},
            "cors": {
                "allow_credentials": self.cors.allow_credentials,
                "policies": [{"origins": list(self.cors.origins)}],
            },
            "headers": {
                "all": {
                    "request": [{"propagate": {"named": name}} for name in self.propagate_headers],
                },
            },
            "traffic_shaping": {
                "router": {"timeout": _format_duration(shaping.router_timeout_s)},
                "all": {
                    "timeout": _format_duration(shaping.subgraph_timeout_s),
                    "deduplicate_query": shaping.deduplicate_query,
                },
            },
            # In production subgraph errors reach clients with their messages redacted.
            "include_subgraph_errors": {"all": self.dev},
        }
        if self.subgraph_urls:
            document["override_subgraph_url"] = dict(self.subgraph_urls)
        if self.dev:
            # Clients get the query plan when they send the `Apollo-Expose-Query-Plan: true` header.
            document["plugins"] = {"experimental.expose_query_plan": True}
        # Nothing here configures Apollo usage reporting: the router only reports to GraphOS when
        # APOLLO_KEY and APOLLO_GRAPH_REF are set, and router.process.router_environment removes them.
        return _deep_merge(document, self.extra)

    def to_yaml(self) -> str:
        header = (
            "# Apollo Router configuration generated by `labs64 router config`.\n"
            "# Edit the platform settings or RouterConfig instead: this file is overwritten.\n"
        )
        return header + yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)


def _default_cors_origins(settings: PlatformSettings) -> list[str]:
    # Browsers send `localhost` and `127.0.0.1` as different origins, so both are allowed when the
    # platform listens on the IPv4 loopback address.
    origins = [f"http://{settings.host}:{settings.router_port}"]
    if settings.host == "127.0.0.1":
        origins.append(f"http://localhost:{settings.router_port}")
    return origins


def write_router_config(config: RouterConfig, path: Path) -> Path:
    """Write ``config`` as YAML to ``path`` atomically and return the path.

    A router started with ``--hot-reload`` watches this file, so it must only ever see whole files.
    """
    path = Path(path)
    write_text_atomic(path, config.to_yaml())
    return path
