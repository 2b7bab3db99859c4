"""`labs64 events`: read a topic, and list or replay the dead-letter topic."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import click
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from events.relay import create_producer
from events.topics import DEAD_LETTER_TOPIC, TopicNotFound, topic_partitions
from labs64.settings import PlatformSettings, get_settings

__all__ = ["events_group"]

#: Consumer group that remembers how far `dlq replay --all` got.
REPLAY_GROUP = "labs64.dlq-replay"


@click.group()
def events_group() -> None:
    """Inspect event topics and the dead-letter topic."""


@events_group.command()
@click.argument("topic")
@click.option("-b", "--from-beginning", is_flag=True, help="Start at the oldest retained record instead of the newest.")
@click.option("-n", "--max-records", type=click.IntRange(min=1), help="Exit after printing this many records.")
@click.option("--idle-timeout", type=click.FloatRange(min=0.1), help="Exit after this many seconds without a new record.")
def tail(topic: str, from_beginning: bool, max_records: int | None, idle_timeout: float | None) -> None:
    """Print a topic's records as JSON lines until interrupted (or a limit is reached)."""
    asyncio.run(_tail(get_settings(), topic, from_beginning, max_records, idle_timeout))


async def _tail(settings: PlatformSettings, topic: str, from_beginning: bool, max_records: int | None, idle_timeout: float | None) -> None:
    printed = 0
    async for record in _read(settings, topic, from_beginning=from_beginning, stop_at_end=False, idle_timeout=idle_timeout):
        click.echo(json.dumps(_describe(record)))
        printed += 1
        if max_records is not None and printed >= max_records:
            return


@events_group.group()
def dlq() -> None:
    """List or replay the records that consumers gave up on."""


@dlq.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per record instead of a table.")
def dlq_list(as_json: bool) -> None:
    """List every retained dead-lettered record with its origin and error."""
    records = asyncio.run(_collect(get_settings(), DEAD_LETTER_TOPIC))
    if as_json:
        for record in records:
            click.echo(json.dumps(_describe(record)))
        return
    if not records:
        click.echo("The dead-letter topic is empty.")
        return
    click.echo(f"{'OFFSET':>6}  {'ORIGIN':<28} {'GROUP':<16} {'ERROR'}")
    for record in records:
        headers = _headers(record)
        origin = f"{headers.get('dlq_topic', '?')}/{headers.get('dlq_partition', '?')}@{headers.get('dlq_offset', '?')}"
        error = f"{headers.get('dlq_error_type', '')}: {headers.get('dlq_error', '')}".splitlines()[0][:120]
        click.echo(f"{record.offset:>6}  {origin:<28} {headers.get('dlq_group', '?'):<16} {error}")


@dlq.command("replay")
@click.option("--offset", "offsets", type=click.IntRange(min=0), multiple=True, help="Replay the record at this dead-letter offset (repeatable).")
@click.option("--all", "replay_all", is_flag=True, help="Replay every record not replayed by an earlier --all.")
def dlq_replay(offsets: tuple[int, ...], replay_all: bool) -> None:
    """Send dead-lettered records back to their original topics.

    Every consumer group of that topic receives the record again; groups that had applied it
    already find its id in their inbox and skip it.
    """
    if bool(offsets) == replay_all:
        raise click.UsageError("Pass either --all or one or more --offset N (see `labs64 events dlq list`).")
    replayed = asyncio.run(_replay(get_settings(), set(offsets), replay_all))
    click.echo(f"Replayed {len(replayed)} record(s): offsets {', '.join(map(str, replayed)) or 'none'}.")


async def _replay(settings: PlatformSettings, offsets: set[int], replay_all: bool) -> list[int]:
    records = await _collect(settings, DEAD_LETTER_TOPIC, group_id=REPLAY_GROUP if replay_all else None)
    if not replay_all:
        found = {record.offset for record in records}
        missing = sorted(offsets - found)
        if missing:
            raise click.ClickException(
                f"No dead-lettered record at offset(s) {', '.join(map(str, missing))}; `labs64 events dlq list` shows the retained ones."
            )
        records = [record for record in records if record.offset in offsets]

    producer = create_producer(settings, "labs64-dlq-replay")
    await producer.start()
    try:
        for record in records:
            headers = _headers(record)
            original = [(key, value) for key, value in record.headers or () if not key.startswith("dlq_")]
            await (await producer.send(headers["dlq_topic"], key=record.key, value=record.value, headers=original))
    finally:
        await producer.stop()

    if replay_all and records:
        await _commit(settings, REPLAY_GROUP, TopicPartition(DEAD_LETTER_TOPIC, records[-1].partition), records[-1].offset + 1)
    return [record.offset for record in records]


async def _commit(settings: PlatformSettings, group_id: str, partition: TopicPartition, offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        await consumer.commit({partition: offset})
    finally:
        await consumer.stop()


async def _collect(settings: PlatformSettings, topic: str, group_id: str | None = None) -> list[ConsumerRecord]:
    return [record async for record in _read(settings, topic, from_beginning=True, stop_at_end=True, group_id=group_id)]


async def _read(
    settings: PlatformSettings,
    topic: str,
    *,
    from_beginning: bool,
    stop_at_end: bool,
    idle_timeout: float | None = None,
    group_id: str | None = None,
) -> AsyncIterator[ConsumerRecord]:
    """Read every partition of ``topic`` by manual assignment; with a group, from its committed offsets."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await _partitions(settings, topic)]
        consumer.assign(partitions)
        if group_id is None:
            if from_beginning:
                await consumer.seek_to_beginning(*partitions)
            else:
                await consumer.seek_to_end(*partitions)
        ends = await consumer.end_offsets(partitions)

        last_record = time.monotonic()
        while True:
            if stop_at_end and not [p for p in partitions if await consumer.position(p) < ends[p]]:
                return
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    last_record = time.monotonic()
                    yield record
            if idle_timeout is not None and time.monotonic() - last_record > idle_timeout:
                return
    finally:
        await consumer.stop()


async def _partitions(settings: PlatformSettings, topic: str) -> list[int]:
    try:
        return await topic_partitions(settings, topic)
    except TopicNotFound as error:
        raise click.ClickException(str(error)) from error


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {key: value.decode(errors="replace") for key, value in record.headers or ()}


def _describe(record: ConsumerRecord) -> dict[str, Any]:
    value: Any
    try:
        value = json.loads(record.value) if record.value is not None else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = record.value.decode(errors="replace") if record.value is not None else None
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp,
        "key": record.key.decode(errors="replace") if record.key is not None else None,
        "headers": _headers(record),
        "value": value,
    }
