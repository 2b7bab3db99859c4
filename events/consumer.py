"""Event consumers: at-least-once delivery from Kafka, effects applied once through the inbox.

A consumer reads its topics in a consumer group and handles each partition's records in offset
order. Each event's effect and its inbox row commit in one database transaction, so a redelivered
event (after a crash, a rebalance or a relay retry) is recognised and skipped. Offsets are
committed after the records before them are handled, never ahead of them.

A failing handler is retried with exponential backoff. When the retries are used up, or when the
record is not a valid event at all, the record goes to the dead-letter topic with the error. The
partition then moves on, so one poison message never blocks the events behind it. A database
outage is the exception: it holds the partition until the database is back, because it is no fault
of the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from events.envelope import EventEnvelope, EventPayload, InvalidEvent, decode_envelope, parse_payload
from events.outbox import claim_event
from events.relay import create_producer
from events.topics import DEAD_LETTER_TOPIC
from labs64.settings import PlatformSettings
from subgraphs.kit import Database

__all__ = ["Handler", "ConsumerSpec", "EventConsumer", "ConsumerStats", "PermanentEventError", "DLQ_HEADERS"]

logger = logging.getLogger(__name__)

#: A handler applies one event's effect inside the session's transaction; the consumer commits.
Handler = Callable[[AsyncSession, EventEnvelope, EventPayload], Awaitable[None]]

#: Headers the consumer adds to a dead-lettered record, next to the original ones.
DLQ_HEADERS = (
    "dlq_topic", "dlq_partition", "dlq_offset", "dlq_group", "dlq_error", "dlq_error_type", "dlq_attempts", "dlq_failed_at",
)


class PermanentEventError(Exception):
    """A handler's verdict that retrying cannot help; the event goes straight to the dead-letter topic."""


@dataclass(frozen=True)
class ConsumerSpec:
    """The consumer group of one module and its handler for each payload class."""

    group_id: str
    handlers: Mapping[type[EventPayload], Handler]

    @property
    def topics(self) -> list[str]:
        return sorted({payload_class.topic() for payload_class in self.handlers})


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    skipped: int = 0
    retries: int = 0
    dead_lettered: int = 0
    last_offsets: dict[TopicPartition, int] = field(default_factory=dict)


class _CommitOnRevoke(ConsumerRebalanceListener):
    """Commit the handled offsets of partitions before another member takes them over."""

    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # The rebalance waits for this callback. Taking the partitions' locks first means the
        # records in hand finish and their offsets are committed before another member reads on.
        async with contextlib.AsyncExitStack() as held:
            for partition in sorted(revoked):
                await held.enter_async_context(self.owner.lock_for(partition))
            await self.owner.commit(revoked)
            self.owner.release(revoked)
        logger.info("partitions revoked", extra={"group": self.owner.spec.group_id, "partitions": _names(revoked)})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.owner.owned.update(assigned)
        logger.info("partitions assigned", extra={"group": self.owner.spec.group_id, "partitions": _names(assigned)})


class EventConsumer:
    """Consume a module's topics into its database until stopped."""

    def __init__(
        self,
        settings: PlatformSettings,
        spec: ConsumerSpec,
        database: Database,
        *,
        max_attempts: int = 5,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 5.0,
        client_id: str | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"invalid max_attempts={max_attempts}: at least 1 attempt is needed")
        self.settings = settings
        self.spec = spec
        self.database = database
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.client_id = client_id or spec.group_id
        self.stats = ConsumerStats()
        self._consumer: AIOKafkaConsumer | None = None
        self._handled: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self.started = asyncio.Event()
        #: Partitions this member owns; a record of any other partition is left to its new owner.
        self.owned: set[TopicPartition] = set()
        # One lock per partition, held while a record of it is handled and by the rebalance
        # listener while it commits, so a partition never has two handlers at once.
        self._locks: dict[TopicPartition, asyncio.Lock] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then commit the handled offsets and leave the group."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.spec.group_id,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        consumer.subscribe(self.spec.topics, listener=_CommitOnRevoke(self))
        dead_letters = create_producer(self.settings, f"{self.client_id}-dlq")
        await consumer.start()
        await dead_letters.start()
        self._consumer = consumer
        logger.info("consumer started", extra={"group": self.spec.group_id, "topics": self.spec.topics})
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                self.started.set()
                # Partitions are independent, so their records are handled concurrently; within
                # one partition they stay in offset order.
                await asyncio.gather(
                    *(self._handle_partition(partition, records, dead_letters, stop) for partition, records in batches.items())
                )
                await self.commit()
        finally:
            await self.commit()
            await dead_letters.stop()
            await consumer.stop()
            self._consumer = None
            logger.info("consumer stopped", extra={"group": self.spec.group_id, "stats": self._stats_summary()})

    async def _handle_partition(self, partition: TopicPartition, records: list[ConsumerRecord], dead_letters, stop: asyncio.Event) -> None:
        for record in records:
            async with self.lock_for(partition):
                # A rebalance may have moved the partition to another member since the fetch. That
                # member resumes from our commit, so handling the record here would break the order.
                if stop.is_set() or partition not in self.owned:
                    return
                handled = await self._handle_record(record, dead_letters, stop)
                if not handled:
                    return
                self._handled[partition] = record.offset + 1
                self.stats.last_offsets[partition] = record.offset

    async def _handle_record(self, record: ConsumerRecord, dead_letters, stop: asyncio.Event) -> bool:
        """Apply one record, or dead-letter it; False only when shutdown interrupted its retries."""
        try:
            envelope = decode_envelope(record.value)
            payload = parse_payload(envelope)
        except InvalidEvent as error:
            await self._dead_letter(record, error, 1, dead_letters)
            return True

        handler = self.spec.handlers.get(type(payload))
        if handler is None:
            # Topics carry every event of an aggregate type; a module handles only some of them.
            self.stats.skipped += 1
            return True

        attempt = 1
        while True:
            try:
                await self._apply(envelope, payload, handler)
                return True
            except PermanentEventError as error:
                await self._dead_letter(record, error, attempt, dead_letters)
                return True
            except Exception as error:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                if _is_infrastructure_failure(error):
                    # An unreachable database is no fault of the event, so the consumer waits for it
                    # without using up attempts, instead of dead-lettering every event meanwhile.
                    attempt = min(attempt, self.max_attempts - 1)
                if attempt >= self.max_attempts:
                    await self._dead_letter(record, error, attempt, dead_letters)
                    return True
                delay = min(self.backoff_initial_s * 2 ** (attempt - 1), self.backoff_max_s)
                self.stats.retries += 1
                logger.warning(
                    "event handler failed; retrying",
                    extra={**_ids(record, envelope), "group": self.spec.group_id, "attempt": attempt, "delay_s": delay, "error": repr(error)},
                )
                attempt += 1
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return False
                except TimeoutError:
                    pass

    async def _apply(self, envelope: EventEnvelope, payload: EventPayload, handler: Handler) -> None:
        async with self.database.session() as session:
            if not await claim_event(session, self.spec.group_id, envelope):
                self.stats.duplicates += 1
                logger.info("duplicate event skipped", extra={"event_id": str(envelope.id), "type": envelope.type, "group": self.spec.group_id})
                return
            await handler(session, envelope, payload)
            await session.commit()
        self.stats.applied += 1

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException, attempts: int, dead_letters) -> None:
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        headers = list(record.headers or ()) + [
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_group", self.spec.group_id.encode()),
            ("dlq_error", detail[:4000].encode()),
            ("dlq_error_type", type(error).__name__.encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        # The offset is committed only after the dead-letter topic has the record, so a crash here
        # redelivers it instead of dropping it.
        await (await dead_letters.send(DEAD_LETTER_TOPIC, key=record.key, value=record.value, headers=headers))
        self.stats.dead_lettered += 1
        logger.error(
            "event dead-lettered",
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset, "group": self.spec.group_id, "attempts": attempts, "error": detail},
        )

    async def commit(self, partitions: list[TopicPartition] | None = None) -> None:
        """Commit the offsets handled so far (of ``partitions``, or of all) that are not committed yet."""
        consumer = self._consumer
        if consumer is None:
            return
        pending = {
            partition: offset
            for partition, offset in self._handled.items()
            if (partitions is None or partition in partitions) and self._committed.get(partition) != offset
        }
        if not pending:
            return
        try:
            await consumer.commit(pending)
        except (CommitFailedError, KafkaError) as error:
            # The group moved on (a rebalance); the new owner redelivers from the last commit and
            # the inbox drops what was already applied.
            logger.warning("offset commit failed", extra={"group": self.spec.group_id, "partitions": _names(pending), "error": repr(error)})
            return
        self._committed.update(pending)

    def lock_for(self, partition: TopicPartition) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    def release(self, partitions: list[TopicPartition]) -> None:
        """Forget partitions this member no longer owns, and their offsets."""
        for partition in partitions:
            self.owned.discard(partition)
            self._handled.pop(partition, None)
            self._committed.pop(partition, None)

    def _stats_summary(self) -> dict[str, int]:
        s = self.stats
        return {"applied": s.applied, "duplicates": s.duplicates, "skipped": s.skipped, "retries": s.retries, "dead_lettered": s.dead_lettered}


def _ids(record: ConsumerRecord, envelope: EventEnvelope) -> dict[str, object]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset, "event_id": str(envelope.id), "type": envelope.type}


def _names(partitions) -> list[str]:
    return sorted(f"{p.topic}-{p.partition}" for p in partitions)


def _is_infrastructure_failure(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OperationalError, InterfaceError, OSError))
