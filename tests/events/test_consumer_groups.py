"""Consumer groups: a restart resumes from committed offsets, and per-key order survives rebalances."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from events.consumer import ConsumerSpec, EventConsumer
from events.envelope import EventEnvelope, EventPayload, new_event
from events.topics import TopicSpec, ensure_topics
from labs64.platform import Platform
from subgraphs.kit import Database
from tests.events.kafka import group_lag, produce
from tests.events.polling import eventually


class ProbeV1(EventPayload):
    """A test-only event: one step ``seq`` in the sequence of ``key``."""

    event_type = "io.labs64.test.probe.v1"
    aggregate = "test-probe"
    source = "/labs64/tests"

    key: str
    seq: int

    def aggregate_id(self) -> str:
        return self.key


class SlowProbeV1(ProbeV1):
    event_type = "io.labs64.test.slow-probe.v1"
    aggregate = "test-slow-probe"

    delay_s: ClassVar[float] = 0.01


async def _record_probe(session: AsyncSession, envelope: EventEnvelope, payload: EventPayload) -> None:
    assert isinstance(payload, ProbeV1)
    if isinstance(payload, SlowProbeV1):
        # Slow handling keeps records in flight while the group rebalances.
        await asyncio.sleep(SlowProbeV1.delay_s)
    await session.execute(
        text("INSERT INTO event_probe (topic, key, seq) VALUES (:topic, :key, :seq)"),
        {"topic": payload.topic(), "key": payload.key, "seq": payload.seq},
    )


@pytest.fixture
async def probe_table(backends: Platform, labs_database: Database) -> AsyncIterator[None]:
    async with labs_database.session() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS event_probe (id bigserial PRIMARY KEY, topic text, key text, seq int)"))
        await session.commit()
    await ensure_topics(
        backends.settings,
        (TopicSpec(ProbeV1.topic(), partitions=3, retention_ms=3_600_000), TopicSpec(SlowProbeV1.topic(), partitions=4, retention_ms=3_600_000)),
    )
    yield


async def _probes(database: Database, topic: str) -> list[tuple[str, int]]:
    async with database.session() as session:
        rows = await session.execute(text("SELECT key, seq FROM event_probe WHERE topic = :topic ORDER BY id"), {"topic": topic})
        return [(key, seq) for key, seq in rows.all()]


def _records(payload_class: type[ProbeV1], keys: list[str], seqs: range) -> list[tuple[bytes, bytes]]:
    return [(key.encode(), new_event(payload_class(key=key, seq=seq)).to_bytes()) for seq in seqs for key in keys]


async def _run_until(consumer: EventConsumer, done) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(done, lambda ok: ok or task.done(), timeout_s=60, what="consumer progress")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def test_restart_resumes_from_committed_offsets(backends: Platform, labs_database: Database, probe_table: None) -> None:
    settings = backends.settings
    group = f"test.resume.{uuid.uuid4().hex[:8]}"
    spec = ConsumerSpec(group_id=group, handlers={ProbeV1: _record_probe})
    keys = [f"resume-{group}-{k}" for k in range(3)]

    await produce(settings, ProbeV1.topic(), _records(ProbeV1, keys, range(0, 10)))
    first = EventConsumer(settings, spec, labs_database)

    async def first_done() -> bool:
        return first.stats.applied >= 30

    await _run_until(first, first_done)
    assert await group_lag(settings, group, ProbeV1.topic()) == 0

    await produce(settings, ProbeV1.topic(), _records(ProbeV1, keys, range(10, 15)))
    second = EventConsumer(settings, spec, labs_database)

    async def second_done() -> bool:
        return second.stats.applied >= 15

    await _run_until(second, second_done)
    assert second.stats.applied == 15
    assert second.stats.duplicates == 0, "a resumed consumer must not see records before its committed offset"
    assert await group_lag(settings, group, ProbeV1.topic()) == 0


async def test_key_order_survives_rebalance(backends: Platform, labs_database: Database, probe_table: None) -> None:
    settings = backends.settings
    group = f"test.order.{uuid.uuid4().hex[:8]}"
    spec = ConsumerSpec(group_id=group, handlers={SlowProbeV1: _record_probe})
    keys = [f"order-{group}-{k}" for k in range(8)]
    total = len(keys) * 40
    await produce(settings, SlowProbeV1.topic(), _records(SlowProbeV1, keys, range(40)))

    first = EventConsumer(settings, spec, labs_database, client_id="member-a")
    second = EventConsumer(settings, spec, labs_database, client_id="member-b")
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    first_task = asyncio.create_task(first.run(stop_first))
    second_task = None
    try:
        await eventually(lambda: _count(first), lambda n: n >= total // 5, what="first member applied a fifth")
        # The second member joins: the group rebalances while records are in flight.
        second_task = asyncio.create_task(second.run(stop_second))
        await eventually(lambda: _count(first, second), lambda n: n >= total // 2, what="half applied by both members")
        # The first member leaves: its partitions move to the second.
        stop_first.set()
        await asyncio.wait_for(first_task, timeout=30)
        await eventually(lambda: _applied_keys(labs_database, SlowProbeV1.topic(), keys), lambda n: n == total, what="all records applied")
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.wait_for(asyncio.gather(first_task, *([second_task] if second_task else [])), timeout=30)

    sequences: dict[str, list[int]] = defaultdict(list)
    for key, seq in await _probes(labs_database, SlowProbeV1.topic()):
        if key in keys:
            sequences[key].append(seq)
    assert second.stats.applied > 0, "the second member should have taken over partitions"
    for key in keys:
        assert sequences[key] == list(range(40)), f"{key} applied out of order or more than once: {sequences[key]}"


async def _count(*consumers: EventConsumer) -> int:
    return sum(consumer.stats.applied for consumer in consumers)


async def _applied_keys(database: Database, topic: str, keys: list[str]) -> int:
    return sum(1 for key, _ in await _probes(database, topic) if key in keys)


class FlakyProbeV1(ProbeV1):
    event_type = "io.labs64.test.flaky-probe.v1"
    aggregate = "test-flaky-probe"


class OutageProbeV1(ProbeV1):
    event_type = "io.labs64.test.outage-probe.v1"
    aggregate = "test-outage-probe"


def _failing_handler(failures: int, error: Exception):
    """A handler that raises ``error`` for its first ``failures`` calls, then records the probe."""
    calls = {"count": 0}

    async def handle(session: AsyncSession, envelope: EventEnvelope, payload: EventPayload) -> None:
        calls["count"] += 1
        if calls["count"] <= failures:
            raise error
        await _record_probe(session, envelope, payload)

    return handle, calls


async def test_handler_retried_then_dead_lettered(backends: Platform, labs_database: Database, probe_table: None) -> None:
    settings = backends.settings
    await ensure_topics(settings, (TopicSpec(FlakyProbeV1.topic(), partitions=1, retention_ms=3_600_000),))
    key = f"flaky-{uuid.uuid4().hex[:8]}"
    handler, calls = _failing_handler(failures=100, error=RuntimeError("handler bug"))
    consumer = EventConsumer(
        settings, ConsumerSpec(group_id=f"test.flaky.{key}", handlers={FlakyProbeV1: handler}), labs_database, max_attempts=3, backoff_initial_s=0.01
    )
    await produce(settings, FlakyProbeV1.topic(), _records(FlakyProbeV1, [key], range(2)))

    async def done() -> bool:
        return consumer.stats.dead_lettered >= 2

    await _run_until(consumer, done)

    assert calls["count"] == 6, "each of the two events should be tried max_attempts times"
    assert consumer.stats.retries == 4
    assert consumer.stats.dead_lettered == 2
    assert consumer.stats.applied == 0


async def test_database_outage_retried_not_dead_lettered(backends: Platform, labs_database: Database, probe_table: None) -> None:
    from sqlalchemy.exc import OperationalError

    settings = backends.settings
    await ensure_topics(settings, (TopicSpec(OutageProbeV1.topic(), partitions=1, retention_ms=3_600_000),))
    key = f"outage-{uuid.uuid4().hex[:8]}"
    outage = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    handler, calls = _failing_handler(failures=5, error=outage)
    group = f"test.outage.{key}"
    consumer = EventConsumer(
        settings, ConsumerSpec(group_id=group, handlers={OutageProbeV1: handler}), labs_database, max_attempts=2, backoff_initial_s=0.01
    )
    await produce(settings, OutageProbeV1.topic(), _records(OutageProbeV1, [key], range(1)))

    async def done() -> bool:
        return consumer.stats.applied >= 1 or consumer.stats.dead_lettered >= 1

    await _run_until(consumer, done)

    assert consumer.stats.dead_lettered == 0
    assert consumer.stats.applied == 1
    assert calls["count"] == 6
    assert [(k, seq) for k, seq in await _probes(labs_database, OutageProbeV1.topic()) if k == key] == [(key, 0)]
