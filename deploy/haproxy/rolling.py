"""Rolling restart of the router replicas behind HAProxy, one at a time, without failed requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from deploy.haproxy.config import ROUTERS_BACKEND
from deploy.haproxy.runtime import HAProxyRuntime
from labs64.errors import PlatformError
from labs64.health import checks_for, wait_healthy
from labs64.settings import PlatformSettings
from labs64.supervisor import Supervisor
from router.replicas import router_replicas

__all__ = ["rolling_restart"]

Progress = Callable[[str], None]


def rolling_restart(
    settings: PlatformSettings,
    progress: Progress,
    *,
    drain_timeout_s: float = 30.0,
) -> float:
    """Restart every router replica in turn and return the seconds taken.

    For each replica: set it to `drain` in HAProxy so it gets no new requests, wait until its open
    sessions have finished, restart it through supervisord, wait for its readiness check, set it
    back to `ready` and wait until HAProxy's own health check reports it UP. Only then does the
    next replica go, so at least one replica serves at every moment.
    """
    started = time.monotonic()
    runtime = HAProxyRuntime(settings.run_dir / "haproxy.sock")
    supervisor = Supervisor(settings)
    checks = checks_for(settings)
    replicas = router_replicas(settings)
    if len(replicas) < 2:
        raise PlatformError(
            "a rolling restart needs at least two router replicas; set LABS64_ROUTER_REPLICA_PORTS "
            "and LABS64_ROUTER_REPLICA_HEALTH_PORTS"
        )
    _require_all_up(runtime, [replica.name for replica in replicas])

    for replica in replicas:
        progress(f"{replica.name}: draining")
        runtime.set_server_state(ROUTERS_BACKEND, replica.name, "drain")
        try:
            _wait_drained(runtime, replica.name, drain_timeout_s)
            progress(f"{replica.name}: restarting")
            supervisor.stop_program(replica.name)
            supervisor.start_program(replica.name)
            asyncio.run(wait_healthy(checks[replica.name], settings.startup_timeout_s))
        finally:
            # Back to `ready` even when the restart failed, so a replica that did come back is used.
            runtime.set_server_state(ROUTERS_BACKEND, replica.name, "ready")
        _wait_up(runtime, replica.name, settings.startup_timeout_s)
        progress(f"{replica.name}: healthy and back in rotation")
    return time.monotonic() - started


def _require_all_up(runtime: HAProxyRuntime, names: list[str]) -> None:
    servers = runtime.servers(ROUTERS_BACKEND)
    down = [name for name in names if name not in servers or not servers[name].up]
    if down:
        # Restarting while another replica is down would leave no replica serving requests.
        raise PlatformError(
            f"router replicas not UP in HAProxy: {', '.join(down)}; fix them first "
            "(`labs64 status`, `labs64 logs ROUTER`), then run the restart again"
        )


def _wait_drained(runtime: HAProxyRuntime, name: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if runtime.servers(ROUTERS_BACKEND)[name].current_sessions == 0:
            return
        time.sleep(0.1)
    # Requests still open are retried on another replica by HAProxy when the connection drops.
    # NOTE: a request that was already answered in part (a long response) cannot be retried.


def _wait_up(runtime: HAProxyRuntime, name: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if runtime.servers(ROUTERS_BACKEND)[name].up:
            return
        time.sleep(0.2)
    raise PlatformError(f"HAProxy did not mark {name} UP within {timeout_s:.0f} s after its restart; see `labs64 logs haproxy`")
