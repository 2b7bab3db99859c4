"""Command line and environment for running the Apollo Router offline, and config validation."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from labs64.settings import PlatformSettings, get_settings
from router.build import router_binary_path

__all__ = [
    "RouterConfigInvalid",
    "router_command",
    "router_environment",
    "validate_config",
]

# Router 2.13.1 exits at startup when OTEL_EXPORTER_OTLP_ENDPOINT or its _TRACES_ or _METRICS_ form
# is set (`FORBIDDEN_OTEL_VARS` in executable.rs). The other OTLP variables would silently override
# exporters configured in router.yaml, so every OTEL_EXPORTER_OTLP_* variable is removed.
_OTLP_PREFIX = "OTEL_EXPORTER_OTLP_"

# With both of these set the router reports usage to Apollo GraphOS and polls Uplink for schemas.
# The platform runs offline from a local supergraph file instead.
_GRAPHOS_VARIABLES = ("APOLLO_KEY", "APOLLO_GRAPH_REF")

_VALIDATE_TIMEOUT_S = 60.0


class RouterConfigInvalid(Exception):
    """``router config validate`` rejected a configuration file; ``output`` contains what it printed."""

    def __init__(self, path: Path, output: str) -> None:
        self.path = path
        self.output = output
        super().__init__(f"invalid router configuration {path}:\n{output.strip()}")


def router_environment(base_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return a copy of ``base_env`` (default: ``os.environ``) that the router can start offline with.

    It removes every OTEL_EXPORTER_OTLP_* variable, APOLLO_KEY and APOLLO_GRAPH_REF, and sets
    APOLLO_TELEMETRY_DISABLED=true so the router sends no anonymous usage data.
    """
    source = os.environ if base_env is None else base_env
    env = {
        name: value
        for name, value in source.items()
        if not name.startswith(_OTLP_PREFIX) and name not in _GRAPHOS_VARIABLES
    }
    env["APOLLO_TELEMETRY_DISABLED"] = "true"
    return env


def router_command(
    settings: PlatformSettings | None,
    config_path: Path,
    *,
    license_path: Path | None = None,
) -> list[str]:
    """Return the argv that runs the router on the local supergraph, reloading both files on change."""
    settings = settings or get_settings()
    command = [
        str(router_binary_path(settings)),
        "--config",
        str(config_path),
        "--supergraph",
        str(settings.supergraph_path),
        "--hot-reload",
    ]
    if license_path is not None:
        command.extend(["--license", str(license_path)])
    return command


def validate_config(binary: Path, path: Path) -> None:
    """Check ``path`` with ``router config validate``; raise RouterConfigInvalid with its output.

    The router checks the file against its configuration schema only. It does not check licence
    gating, which RouterConfig's validation covers, or whether the listen ports are free.
    """
    binary = Path(binary)
    if not binary.is_file():
        raise FileNotFoundError(f"router binary {binary} not found; build it with `labs64 router build`")
    # A hung router raises subprocess.TimeoutExpired rather than RouterConfigInvalid: the file may be fine.
    completed = subprocess.run(
        [str(binary), "config", "validate", str(path)],
        env=router_environment(),
        capture_output=True,
        text=True,
        timeout=_VALIDATE_TIMEOUT_S,
        check=False,
    )
    if completed.returncode != 0:
        raise RouterConfigInvalid(Path(path), completed.stdout + completed.stderr)
