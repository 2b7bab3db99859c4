"""Process entry points of the supervised event programs: the relay and each module's consumer."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from events.consumer import ConsumerSpec, EventConsumer
from events.relay import OutboxRelay
from labs64.settings import CONSUMER_MODULES, SUBGRAPH_NAMES, PlatformSettings
from subgraphs.kit import Database

__all__ = ["run_relay", "run_consumer", "consumer_spec"]

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 2.0


def consumer_spec(module: str) -> ConsumerSpec:
    """Load the consumer group and handlers that a module declares in ``subgraphs.<module>.handlers``."""
    if module not in CONSUMER_MODULES:
        raise ValueError(f"invalid module {module!r}: the modules that consume events are {', '.join(CONSUMER_MODULES)}")
    return importlib.import_module(f"subgraphs.{module}.handlers").CONSUMER


async def run_relay(settings: PlatformSettings, modules: tuple[str, ...] = SUBGRAPH_NAMES) -> None:
    relay = OutboxRelay(settings, modules)
    await _run_until_signal(relay.run, settings.heartbeat_path("events-relay"))


async def run_consumer(settings: PlatformSettings, module: str) -> None:
    database = Database(settings.database_url(module), pool_size=4)
    consumer = EventConsumer(settings, consumer_spec(module), database)
    try:
        await _run_until_signal(consumer.run, settings.heartbeat_path(f"{module}-consumer"), ready=consumer.started)
    finally:
        await database.dispose()


async def _run_until_signal(
    work: Callable[[asyncio.Event], Awaitable[None]], heartbeat: Path, ready: asyncio.Event | None = None
) -> None:
    # SIGTERM (supervisord's stop) and SIGINT set the stop event, so the work finishes the record
    # in hand and commits before the process exits.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    beat = asyncio.create_task(_heartbeat(heartbeat, stop, ready))
    try:
        await work(stop)
    finally:
        stop.set()
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        heartbeat.unlink(missing_ok=True)


async def _heartbeat(path: Path, stop: asyncio.Event, ready: asyncio.Event | None) -> None:
    if ready is not None:
        await ready.wait()
    path.parent.mkdir(parents=True, exist_ok=True)
    while not stop.is_set():
        path.touch()
        await asyncio.sleep(HEARTBEAT_INTERVAL_S)
