"""The Fief server the platform runs: its virtual environment, secrets, environment and programs.

Fief pins exact 2023 versions of its dependencies, so it lives in a virtual environment of its own
under the cache directory, installed with uv from ``identity/requirements.txt``. Its database is a
database ``labs64_fief`` on the platform's PostgreSQL, and it gets a Redis of its own because it
ignores the Redis database number.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from labs64.errors import PlatformError
from labs64.settings import REPOSITORY_ROOT, PlatformSettings
from labs64.supervisor import Program

__all__ = [
    "FiefSecrets",
    "REQUIREMENTS_PATH",
    "ensure_fief_environment",
    "fief_domain",
    "fief_environment",
    "fief_programs",
    "fief_venv_dir",
]

#: Hash-pinned requirements of fief-server, compiled from ``identity/requirements.in``.
REQUIREMENTS_PATH = REPOSITORY_ROOT / "identity" / "requirements.txt"

Progress = Callable[[str], None]


def fief_venv_dir(settings: PlatformSettings) -> Path:
    return settings.cache_dir / "fief" / settings.fief_version


def fief_domain(settings: PlatformSettings) -> str:
    """The workspace domain. Fief rejects requests whose Host header differs from it."""
    return f"{settings.host}:{settings.fief_port}"


def _requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS_PATH.read_bytes()).hexdigest()


def ensure_fief_environment(settings: PlatformSettings, progress: Progress) -> Path:
    """Install fief-server into its cached virtual environment unless it is there; return its ``fief``."""
    venv = fief_venv_dir(settings)
    fief = venv / "bin" / "fief"
    stamp = venv / ".labs64-requirements.sha256"
    digest = _requirements_digest()
    if fief.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return fief

    uv = shutil.which("uv")
    if uv is None:
        raise PlatformError("uv is needed to install the Fief server; run scripts/setup, which installs it.")
    progress(f"installing fief-server {settings.fief_version} into {venv} (about 20 s) ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    commands = [
        [uv, "venv", "--quiet", "--clear", "--python", "python3.11", str(venv)],
        [uv, "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"), str(REQUIREMENTS_PATH)],
    ]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise PlatformError(
                f"installing the Fief server failed ({' '.join(command[:3])} exit {result.returncode}): "
                f"{result.stderr.strip()[-2000:]}"
            )
    stamp.write_text(digest + "\n")
    return fief


@dataclass(frozen=True)
class FiefSecrets:
    """Secrets Fief needs at every start; generated once per data directory and kept with mode 0600."""

    secret: str
    encryption_key: str
    client_id: str
    client_secret: str
    admin_api_key: str

    @classmethod
    def load_or_create(cls, settings: PlatformSettings) -> FiefSecrets:
        path = settings.fief_data_dir / "secrets.json"
        if path.exists():
            return cls(**json.loads(path.read_text()))

        created = cls(
            secret=secrets.token_urlsafe(64),
            # A Fernet key: 32 random bytes, URL-safe base64.
            encryption_key=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            client_id=secrets.token_urlsafe(),
            client_secret=secrets.token_urlsafe(),
            admin_api_key=secrets.token_urlsafe(32),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(created), handle)
        return created


def fief_environment(settings: PlatformSettings, fief_secrets: FiefSecrets) -> dict[str, str]:
    """Fief's settings: loopback, plain HTTP, the platform's PostgreSQL, telemetry off."""
    domain = fief_domain(settings)
    environment = {
        "TELEMETRY_ENABLED": "false",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "INFO",
        "PORT": str(settings.fief_port),
        "ROOT_DOMAIN": domain,
        "FIEF_DOMAIN": domain,
        "SECRET": fief_secrets.secret,
        "ENCRYPTION_KEY": fief_secrets.encryption_key,
        "FIEF_CLIENT_ID": fief_secrets.client_id,
        "FIEF_CLIENT_SECRET": fief_secrets.client_secret,
        "FIEF_MAIN_ADMIN_API_KEY": fief_secrets.admin_api_key,
        # With SQLite, sign-ins failed with "database is locked" once the worker wrote audit logs beside the server.
        "DATABASE_TYPE": "POSTGRESQL",
        "DATABASE_HOST": settings.host,
        "DATABASE_PORT": str(settings.postgres_port),
        "DATABASE_USERNAME": settings.postgres_user,
        "DATABASE_PASSWORD": settings.postgres_password,
        "DATABASE_NAME": settings.database_name("fief"),
        "DATABASE_SSL_MODE": "disable",
        "DATABASE_LOCATION": str(settings.fief_data_dir),
        "REDIS_URL": f"redis://{settings.host}:{settings.fief_redis_port}",
        # 2048-bit RSA keys are the RS256 norm and take a fraction of the 4096-bit generation time.
        "GENERATED_JWK_SIZE": "2048",
        # Served over plain HTTP on loopback, so cookies cannot require TLS and redirect URIs may be http.
        "CLIENT_REDIRECT_URI_SSL_REQUIRED": "false",
        "ALLOW_ORIGIN_REGEX": r"http://(localhost|127\.0\.0\.1):[0-9]+",
    }
    for cookie in ("CSRF", "SESSION_DATA", "USER_LOCALE", "LOGIN_HINT", "LOGIN_SESSION", "REGISTRATION_SESSION", "SESSION", "FIEF_ADMIN_SESSION"):
        environment[f"{cookie}_COOKIE_SECURE"] = "false"
    return environment


def fief_programs(settings: PlatformSettings) -> list[Program]:
    """Fief's Redis, the Fief server and its worker, as supervisord programs."""
    fief = fief_venv_dir(settings) / "bin" / "fief"
    environment = fief_environment(settings, FiefSecrets.load_or_create(settings))
    # Fief reads a `.env` from its working directory; its own data directory has none.
    return [
        Program(
            "fief-redis",
            [
                "redis-server", "--bind", settings.host, "--port", str(settings.fief_redis_port),
                "--dir", str(settings.fief_data_dir), "--save", "", "--appendonly", "no",
                "--protected-mode", "yes",
            ],
            priority=20,
        ),
        Program(
            "fief",
            [
                str(fief), "run-server", "--host", settings.host, "--port", str(settings.fief_port),
                # No dashboard user: the platform manages Fief through the admin API key.
                "--no-create-main-user",
            ],
            environment=environment,
            directory=settings.fief_data_dir,
            priority=30,
        ),
        # The worker runs Fief's background tasks, among them granting default roles to new
        # sign-ups and the permissions of roles given in the dashboard. One process, one thread.
        Program(
            "fief-worker",
            [str(fief), "run-worker", "--processes", "1", "--threads", "1"],
            environment=environment,
            directory=settings.fief_data_dir,
            priority=40,
        ),
    ]
