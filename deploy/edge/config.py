"""Configuration of the local edge Worker and the supervisord command that runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from identity.config import IdentityConfig
from identity.errors import IdentityNotConfigured
from labs64.settings import PlatformSettings

__all__ = ["EDGE_DIR", "EdgeConfig", "edge_command", "write_bindings"]

EDGE_DIR = Path(__file__).resolve().parent


class EdgeConfig(BaseModel):
    """Worker bindings (the same names as wrangler.toml's [vars]) and where workerd listens."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address workerd listens on.")
    port: int = Field(8787, description="Port workerd listens on.")
    origin_url: str = Field(description="HAProxy address the Worker forwards requests to.")
    development: bool = Field(True, description="Development mode: introspection passes the WAF.")
    safelist: bool = Field(False, description="Accept persisted operations only.")
    max_body_bytes: int = Field(65536, gt=0, description="Maximum size of a request body, or GET query string, in bytes.")
    max_depth: int = Field(10, gt=0, description="Maximum selection nesting depth of an operation.")
    max_aliases: int = Field(20, gt=0, description="Maximum aliases in an operation, fragments expanded.")
    max_root_fields: int = Field(10, gt=0, description="Maximum root fields an operation selects.")
    max_tokens: int = Field(2000, gt=0, description="Maximum lexical tokens in an operation document.")
    rate_limit_window_s: int = Field(60, gt=0, description="Length of a rate limit window, in seconds.")
    rate_limit_per_client: int = Field(600, gt=0, description="Requests per window from one client address.")
    rate_limit_per_token: int = Field(1200, gt=0, description="Requests per window with one bearer token.")
    jwks_url: str | None = Field(None, description="JWKS that bearer tokens are verified against.")
    jwt_issuer: str | None = Field(None, description="Required `iss` claim.")
    jwt_audience: str | None = Field(
        None, description="Accepted `aud` claims, comma-separated: a token must carry one of them."
    )
    purge_secret: str | None = Field(None, description="Shared secret of the purge endpoint; unset, purging is off.")

    @classmethod
    def from_settings(cls, settings: PlatformSettings, **overrides: object) -> EdgeConfig:
        values: dict[str, object] = {
            **_identity_defaults(settings),
            "host": settings.host,
            "port": settings.edge_port,
            "origin_url": settings.haproxy_url.rstrip("/"),
            "development": settings.router_dev,
            "purge_secret": settings.edge_purge_secret,
        }
        explicit = {
            "jwks_url": settings.edge_jwks_url,
            "jwt_issuer": settings.edge_jwt_issuer,
            "jwt_audience": settings.edge_jwt_audience,
        }
        values.update({key: value for key, value in explicit.items() if value is not None})
        values.update(overrides)
        return cls(**values)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def bindings(self) -> dict[str, str]:
        """Return the Worker's environment bindings, every value a string as in wrangler.toml."""
        bindings = {
            "ORIGIN_URL": self.origin_url,
            "ENVIRONMENT": "development" if self.development else "production",
            "SAFELIST": "true" if self.safelist else "false",
            "MAX_BODY_BYTES": str(self.max_body_bytes),
            "MAX_DEPTH": str(self.max_depth),
            "MAX_ALIASES": str(self.max_aliases),
            "MAX_ROOT_FIELDS": str(self.max_root_fields),
            "MAX_TOKENS": str(self.max_tokens),
            "RATE_LIMIT_WINDOW_S": str(self.rate_limit_window_s),
            "RATE_LIMIT_PER_CLIENT": str(self.rate_limit_per_client),
            "RATE_LIMIT_PER_TOKEN": str(self.rate_limit_per_token),
        }
        optional = {
            "JWKS_URL": self.jwks_url,
            "JWT_ISSUER": self.jwt_issuer,
            "JWT_AUDIENCE": self.jwt_audience,
            "PURGE_SECRET": self.purge_secret,
        }
        bindings.update({name: value for name, value in optional.items() if value})
        return bindings


def write_bindings(config: EdgeConfig, path: Path) -> Path:
    """Write the bindings as JSON, readable by the owner only because they hold the purge secret."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(config.bindings(), handle, indent=2)
    return path


def _identity_defaults(settings: PlatformSettings) -> dict[str, object]:
    """Return Fief's JWKS address, issuer and audiences, once the identity bootstrap has written them.

    The edge then rejects forged and expired tokens before they reach HAProxy. Before the first
    bootstrap there is nothing to verify against, so tokens pass the edge and the modules check them.
    """
    try:
        identity = IdentityConfig.from_settings(settings)
    except IdentityNotConfigured:
        return {}
    return {"jwks_url": identity.jwks_url, "jwt_issuer": identity.issuer, "jwt_audience": ",".join(identity.audiences)}


def edge_command(config: EdgeConfig, bindings_path: Path) -> list[str]:
    """Return the argv that serves the Worker in workerd; run it in EDGE_DIR."""
    node_modules = EDGE_DIR / "node_modules"
    if not (node_modules / "miniflare").is_dir():
        raise FileNotFoundError(f"the edge Worker's npm packages are missing in {node_modules}; run scripts/setup")
    return [
        "node", str(EDGE_DIR / "scripts" / "serve.mjs"),
        "--host", config.host, "--port", str(config.port), "--bindings", str(bindings_path),
    ]


#: Environment of the edge process: wrangler's and Miniflare's usage reporting stays off.
EDGE_ENVIRONMENT = {"WRANGLER_SEND_METRICS": "false", "NODE_ENV": "production"}
