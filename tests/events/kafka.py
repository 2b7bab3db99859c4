"""Small Kafka helpers for the tests: produce raw records, read a topic, check a group's lag."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from events.topics import topic_partitions
from labs64.settings import PlatformSettings


async def produce(settings: PlatformSettings, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
    """Send (key, value) pairs in order and wait until the broker has them all."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, key=key, value=value) for key, value in records]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def read_topic(settings: PlatformSettings, topic: str) -> list[ConsumerRecord]:
    """Every retained record of ``topic``, read without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await topic_partitions(settings, topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def group_lag(settings: PlatformSettings, group_id: str, topic: str) -> int:
    """Records of ``topic`` that ``group_id`` has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await topic_partitions(settings, topic)]
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        return sum(ends[p] - (committed[p].offset if p in committed and committed[p].offset >= 0 else 0) for p in partitions)
    finally:
        await consumer.stop()
        await admin.close()
