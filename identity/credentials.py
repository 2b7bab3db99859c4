"""The signed-in developer's token, kept in their config directory with mode 0600."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["StoredToken", "credentials_path"]


def credentials_path() -> Path:
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "labs64" / "token.json"


@dataclass(frozen=True)
class StoredToken:
    access_token: str
    issuer: str
    expires_at: float
    """Unix time after which Fief's verifier refuses the token."""

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def save(self, path: Path | None = None) -> Path:
        path = path or credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".tmp")
        # Created with 0600 from the start, so the token is never readable by others, not even briefly.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(self), handle)
        os.chmod(temporary, 0o600)
        temporary.replace(path)
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> StoredToken | None:
        try:
            return cls(**json.loads((path or credentials_path()).read_text()))
        except FileNotFoundError:
            return None
