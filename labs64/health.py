"""Health checks of each component, used by `up` (to wait) and `status` (to report)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from labs64.errors import ComponentUnhealthy
from labs64.postgres import superuser_dsn
from labs64.settings import CONSUMER_MODULES, PlatformSettings
from router.replicas import router_replicas

__all__ = ["Check", "checks_for", "wait_healthy"]


@dataclass(frozen=True)
class Check:
    """How to tell whether one component is healthy, and where users reach it."""

    component: str
    url: str
    probe: Callable[[], Awaitable[None]]

    async def healthy(self) -> tuple[bool, str]:
        try:
            await asyncio.wait_for(self.probe(), timeout=3)
        except Exception as error:  # noqa: BLE001 - any failure means unhealthy, and we report it
            return False, f"{type(error).__name__}: {error}".strip(": ")
        return True, "ok"


def _http_probe(url: str) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        async with httpx.AsyncClient(timeout=3, trust_env=False) as client:
            response = await client.get(url)
            response.raise_for_status()

    return probe


def _postgres_probe(settings: PlatformSettings) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        connection = await asyncpg.connect(**superuser_dsn(settings), timeout=3)  # type: ignore[arg-type]
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()

    return probe


def _redis_probe(settings: PlatformSettings, port: int | None = None) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        reader, writer = await asyncio.open_connection(settings.host, port or settings.redis_port)
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            reply = await reader.readline()
            if not reply.startswith(b"+PONG"):
                raise ConnectionError(f"unexpected reply to PING: {reply!r}")
        finally:
            writer.close()
            await writer.wait_closed()

    return probe


def _kafka_probe(settings: PlatformSettings) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        from aiokafka.client import AIOKafkaClient

        # A plain connect first: aiokafka logs an error for every refused connection, which
        # would fill the log while `up` waits for the broker to start.
        _, writer = await asyncio.open_connection(settings.host, settings.kafka_port)
        writer.close()
        await writer.wait_closed()
        # Bootstrapping fetches the cluster metadata, which only a serving broker returns.
        client = AIOKafkaClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=3000)
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return probe


#: Seconds after which an event program's heartbeat counts as stale; they touch it every 2 s.
HEARTBEAT_MAX_AGE_S = 15.0


def _heartbeat_probe(path: Path) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            raise ConnectionError(f"no heartbeat yet at {path}") from None
        if age > HEARTBEAT_MAX_AGE_S:
            raise TimeoutError(f"last heartbeat {age:.0f} s ago")

    return probe


def checks_for(settings: PlatformSettings) -> dict[str, Check]:
    """Every component's check, keyed by the supervisor program name."""
    host = settings.host
    checks = {
        "postgres": Check("postgres", f"postgresql://{host}:{settings.postgres_port}", _postgres_probe(settings)),
        "redis": Check("redis", f"redis://{host}:{settings.redis_port}", _redis_probe(settings)),
        "kafka": Check("kafka", f"kafka://{settings.kafka_bootstrap_servers}", _kafka_probe(settings)),
    }
    checks["fief-redis"] = Check("fief-redis", f"redis://{host}:{settings.fief_redis_port}", _redis_probe(settings, settings.fief_redis_port))
    # Fief serves a request only when its Host header names the workspace domain, as this URL does.
    checks["fief"] = Check("fief", settings.fief_url, _http_probe(f"{settings.fief_url}/.well-known/openid-configuration"))
    for name in ("users", "labs", "billing"):
        port = settings.subgraph_port(name)
        checks[name] = Check(name, settings.subgraph_url(name), _http_probe(f"http://{host}:{port}/health/ready"))
    for program in ("events-relay", *(f"{module}-consumer" for module in CONSUMER_MODULES)):
        path = settings.heartbeat_path(program)
        checks[program] = Check(program, f"file://{path}", _heartbeat_probe(path))
    for replica in router_replicas(settings):
        checks[replica.name] = Check(replica.name, replica.url, _http_probe(replica.health_url))
    stats_health = f"http://{host}:{settings.haproxy_stats_port}/health"
    checks["haproxy"] = Check("haproxy", settings.haproxy_url, _http_probe(stats_health))
    checks["edge"] = Check("edge", settings.edge_url, _http_probe(f"{settings.edge_url}__edge/health"))
    return checks


async def wait_healthy(check: Check, timeout_s: float, is_alive: Callable[[], bool] | None = None) -> float:
    """Poll ``check`` until it passes; return the seconds it took or raise ``ComponentUnhealthy``."""
    started = time.monotonic()
    detail = "not checked yet"
    while time.monotonic() - started < timeout_s:
        ok, detail = await check.healthy()
        if ok:
            return time.monotonic() - started
        if is_alive is not None and not is_alive():
            raise ComponentUnhealthy(
                f"{check.component} exited during start-up ({detail}); see `labs64 logs {check.component}`"
            )
        await asyncio.sleep(0.25)
    raise ComponentUnhealthy(
        f"{check.component} not healthy after {timeout_s:.0f} s at {check.url} ({detail}); "
        f"see `labs64 logs {check.component}`, or raise LABS64_STARTUP_TIMEOUT_S"
    )
