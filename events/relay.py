"""The outbox relay: publish each module's outbox rows to Kafka, then mark them published.

Delivery is at least once. The relay publishes a batch, waits until the broker acknowledges every
record (acks=all, idempotent producer), and only then sets ``published_at`` in the same database
transaction that locked the rows. A crash between the acknowledgement and the commit leaves the
rows unpublished, so the next run sends them again: consumers drop the copies through their inbox.
Nothing is lost, because a row is marked only after Kafka acknowledged it (acks=all).

One relay at a time serves each database. It holds a PostgreSQL advisory lock for as long as it
runs, so two relays cannot interleave their batches and break the per-key order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events.outbox import NOTIFY_CHANNEL
from labs64.settings import SUBGRAPH_NAMES, PlatformSettings

__all__ = ["OutboxRelay", "FAULT_ENV", "FAULT_EXIT_CODE", "asyncpg_dsn", "create_producer"]

logger = logging.getLogger(__name__)

#: Fault injection for tests: ``exit-after-publish`` makes the relay exit right after Kafka
#: acknowledged a batch and before the batch is marked published.
FAULT_ENV = "LABS64_EVENTS_RELAY_FAULT"
FAULT_EXIT_CODE = 75

#: Published rows stay this long for inspection, as long as the topics keep their records.
OUTBOX_RETENTION_DAYS = 7
#: Days an inbox row is kept. A dead-letter replay can redeliver an event while the dead-letter
#: topic keeps it (30 days), so the row that makes the replay a no-op must outlive that.
INBOX_RETENTION_DAYS = 35
PRUNE_INTERVAL_S = 600.0

_RETRY_INITIAL_S = 0.5
_RETRY_MAX_S = 30.0

#: Advisory lock key of the relay, the same in every module database ("l64r" in ASCII).
_RELAY_LOCK_KEY = 0x6C363472

_SELECT_BATCH = """
    SELECT seq, event_id, topic, key, event_type, envelope::text AS envelope
    FROM event_outbox
    WHERE published_at IS NULL
    ORDER BY seq
    LIMIT $1
    FOR UPDATE
"""


def asyncpg_dsn(settings: PlatformSettings, module: str) -> str:
    """Return the module's database URL without SQLAlchemy's driver suffix, as asyncpg expects it."""
    return settings.database_url(module).replace("postgresql+asyncpg://", "postgresql://", 1)


def create_producer(settings: PlatformSettings, client_id: str) -> AIOKafkaProducer:
    # Idempotence makes broker-side retries free of duplicates and keeps each partition in send
    # order; acks=all means a send completes only once the record is durable.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30000,
    )


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0


class OutboxRelay:
    """Relay the outboxes of several module databases through one Kafka producer."""

    def __init__(
        self,
        settings: PlatformSettings,
        modules: Iterable[str] = SUBGRAPH_NAMES,
        *,
        batch_size: int = 500,
        idle_poll_s: float = 1.0,
        fault: str | None = None,
    ) -> None:
        self.settings = settings
        self.modules = tuple(modules)
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self.fault = fault if fault is not None else os.environ.get(FAULT_ENV)
        if self.fault not in (None, "", "exit-after-publish"):
            raise ValueError(f"invalid {FAULT_ENV}={self.fault!r}: the only fault is 'exit-after-publish'")
        self.stats = {module: RelayStats() for module in self.modules}
        self._producer: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; rows in flight when it is set are finished first."""
        self._producer = create_producer(self.settings, "labs64-relay")
        await self._producer.start()
        logger.info("relay started", extra={"modules": list(self.modules), "bootstrap": self.settings.kafka_bootstrap_servers})
        try:
            await asyncio.gather(*(self._relay_module(module, stop) for module in self.modules))
        finally:
            await self._producer.stop()
            logger.info("relay stopped", extra={"published": {m: s.published for m, s in self.stats.items()}})

    async def _relay_module(self, module: str, stop: asyncio.Event) -> None:
        """Serve one database until stopped, reconnecting after database or Kafka failures."""
        delay = _RETRY_INITIAL_S
        while not stop.is_set():
            try:
                await self._serve_module(module, stop)
                return
            except (KafkaError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                # The unpublished rows stay in the outbox, so a retry later loses nothing.
                logger.warning("relay failed; retrying", extra={"subgraph": module, "retry_in_s": delay, "error": repr(error)})
                await _wait_any(stop, stop, delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    async def _serve_module(self, module: str, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        listener = await asyncpg.connect(asyncpg_dsn(self.settings, module))
        worker = await asyncpg.connect(asyncpg_dsn(self.settings, module))
        try:
            await self._acquire_lock(listener, module, stop)
            await listener.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
            pruned_at = 0.0
            while not stop.is_set():
                if time.monotonic() - pruned_at > PRUNE_INTERVAL_S:
                    await self.prune(worker, module)
                    pruned_at = time.monotonic()
                wake.clear()
                published = await self.publish_batch(worker, module)
                if published == self.batch_size:
                    continue
                # Sleep until a commit notifies us, the poll interval passes (a missed notification
                # only delays delivery), or shutdown.
                await _wait_any(wake, stop, self.idle_poll_s)
        finally:
            await worker.close()
            await listener.close()

    async def _acquire_lock(self, connection: asyncpg.Connection, module: str, stop: asyncio.Event) -> None:
        waited = False
        while not stop.is_set():
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK_KEY):
                if waited:
                    logger.info("relay lock acquired", extra={"subgraph": module})
                return
            if not waited:
                logger.info("another relay serves this database; waiting for its lock", extra={"subgraph": module})
                waited = True
            await asyncio.sleep(1.0)

    async def prune(self, connection: asyncpg.Connection, module: str) -> int:
        """Delete outbox rows published more than ``OUTBOX_RETENTION_DAYS`` ago and inbox rows older
        than ``INBOX_RETENTION_DAYS``; return how many rows went."""
        status = await connection.execute(
            "DELETE FROM event_outbox WHERE published_at < now() - make_interval(days => $1)", OUTBOX_RETENTION_DAYS
        )
        deleted = int(status.split()[-1])
        if deleted:
            logger.info("published outbox rows pruned", extra={"subgraph": module, "rows": deleted})
        # Only modules that consume events have an inbox.
        if await connection.fetchval("SELECT to_regclass('event_inbox') IS NOT NULL"):
            status = await connection.execute(
                "DELETE FROM event_inbox WHERE processed_at < now() - make_interval(days => $1)", INBOX_RETENTION_DAYS
            )
            inbox_deleted = int(status.split()[-1])
            if inbox_deleted:
                logger.info("old inbox rows pruned", extra={"subgraph": module, "rows": inbox_deleted})
            deleted += inbox_deleted
        return deleted

    async def publish_batch(self, connection: asyncpg.Connection, module: str) -> int:
        """Publish up to ``batch_size`` unpublished rows of one database; return how many."""
        assert self._producer is not None
        async with connection.transaction():
            rows = await connection.fetch(_SELECT_BATCH, self.batch_size)
            if not rows:
                return 0
            started = time.perf_counter()
            futures = [await self._producer.send(row["topic"], **_record(row)) for row in rows]
            # Every record must be acknowledged before any row is marked; one failure aborts the
            # transaction, and the whole batch is sent again later.
            await asyncio.gather(*futures)

            if self.fault == "exit-after-publish":
                logger.warning("fault injection: exiting after publish, before mark", extra={"subgraph": module, "rows": len(rows)})
                os._exit(FAULT_EXIT_CODE)

            await connection.execute(
                "UPDATE event_outbox SET published_at = now() WHERE seq = ANY($1::bigint[])", [row["seq"] for row in rows]
            )
        stats = self.stats[module]
        stats.published += len(rows)
        stats.batches += 1
        logger.info(
            "outbox batch published",
            extra={"subgraph": module, "rows": len(rows), "last_seq": rows[-1]["seq"], "ms": round((time.perf_counter() - started) * 1000, 1)},
        )
        return len(rows)


def _record(row: Any) -> dict[str, Any]:
    return {
        "key": row["key"].encode(),
        "value": row["envelope"].encode(),
        # Headers repeat the CloudEvents id and type (binary-mode names) so tools can filter
        # without parsing the value.
        "headers": [("ce_id", str(row["event_id"]).encode()), ("ce_type", row["event_type"].encode())],
    }


async def _wait_any(event: asyncio.Event, stop: asyncio.Event, timeout_s: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
