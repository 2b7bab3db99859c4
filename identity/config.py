"""Identity provider settings and the claims its tokens must carry: written by the bootstrap, read by every module."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from identity.errors import IdentityNotConfigured
from labs64.settings import PlatformSettings

__all__ = ["IdentityConfig", "identity_config_path"]


def identity_config_path(settings: PlatformSettings) -> Path:
    return settings.fief_data_dir / "identity.json"


@dataclass(frozen=True)
class IdentityConfig:
    """The facts a token verifier and the CLI need about one Fief tenant."""

    issuer: str
    """Exact ``iss`` of the tenant's tokens: ``https://<domain>/<tenant slug>``, even over plain HTTP."""
    jwks_url: str
    """URL of the tenant's public signing keys (JWKS)."""
    audiences: tuple[str, ...]
    """Client ids whose tokens the modules accept (Fief sets ``aud`` to the client id)."""
    base_url: str = ""
    """Fief's address for the tenant's endpoints: authorize, token, userinfo."""
    tenant_id: str = ""
    web_client_id: str = ""
    cli_client_id: str = ""
    cli_client_uuid: str = ""
    """Fief's internal id of the CLI client; the admin API mints tokens for it."""
    cli_redirect_uri: str = ""
    """Loopback address `labs64 login` listens on; Fief matches redirect URIs exactly."""
    permission_ids: dict[str, str] = field(default_factory=dict)
    role_ids: dict[str, str] = field(default_factory=dict)
    leeway_s: float = 10.0
    """Clock skew tolerated on ``exp`` and ``nbf``."""

    @property
    def userinfo_url(self) -> str:
        return f"{self.base_url}/api/userinfo"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/api/token"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        temporary.replace(path)

    @classmethod
    def read(cls, path: Path) -> IdentityConfig:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise IdentityNotConfigured(
                f"{path} not found: start the platform with `labs64 up`, whose Fief bootstrap writes it."
            ) from error
        data["audiences"] = tuple(data["audiences"])
        return cls(**data)

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> IdentityConfig:
        """Read the configuration the bootstrap wrote, or the file that LABS64_IDENTITY_CONFIG names."""
        override = os.environ.get("LABS64_IDENTITY_CONFIG")
        return cls.read(Path(override) if override else identity_config_path(settings))
