"""Topics of the platform's events, created by our tooling with explicit partitions and retention."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from events.catalog import EXPERIMENT, SUBSCRIPTION, USER
from events.envelope import topic_for
from labs64.settings import PlatformSettings

__all__ = ["TopicSpec", "TOPICS", "DEAD_LETTER_TOPIC", "TopicNotFound", "ensure_topics", "topic_partitions"]

logger = logging.getLogger(__name__)

_DAY_MS = 24 * 3600 * 1000

#: Messages that a consumer gave up on, with the original key, value and headers plus the error.
DEAD_LETTER_TOPIC = "labs64.dead-letter"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int

    def new_topic(self) -> NewTopic:
        # One broker, so one replica; retention is time-based and compaction is off because
        # consumers need every event, not only each key's latest.
        return NewTopic(
            self.name,
            num_partitions=self.partitions,
            replication_factor=1,
            topic_configs={"retention.ms": str(self.retention_ms), "cleanup.policy": "delete"},
        )


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(topic_for(EXPERIMENT), partitions=6, retention_ms=7 * _DAY_MS),
    TopicSpec(topic_for(USER), partitions=3, retention_ms=7 * _DAY_MS),
    TopicSpec(topic_for(SUBSCRIPTION), partitions=3, retention_ms=7 * _DAY_MS),
    TopicSpec(DEAD_LETTER_TOPIC, partitions=1, retention_ms=30 * _DAY_MS),
)


async def ensure_topics(settings: PlatformSettings, specs: tuple[TopicSpec, ...] = TOPICS) -> list[str]:
    """Create the topics that do not exist yet; return the names created now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="labs64-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics([spec.new_topic() for spec in missing])
        created = []
        for name, code, message in _topic_errors(response):
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:
                raise RuntimeError(f"creating Kafka topic {name} failed: error {code} {message}")
        logger.info("topics created", extra={"topics": created})
        return created
    finally:
        await admin.close()


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    rows = []
    for entry in response.topic_errors:  # type: ignore[attr-defined]
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        rows.append((name, code, message))
    return rows


class TopicNotFound(LookupError):
    """The broker has no topic of that name."""


async def topic_partitions(settings: PlatformSettings, topic: str) -> list[int]:
    """Partition ids of ``topic``, from fresh cluster metadata; raises ``TopicNotFound`` naming the existing topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="labs64-admin")
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
        found = [entry for entry in described if entry["topic"] == topic and entry["error_code"] == 0]
        if not found:
            existing = sorted(name for name in await admin.list_topics() if not name.startswith("__"))
            raise TopicNotFound(f"Topic {topic!r} not found on {settings.kafka_bootstrap_servers}; existing topics: {', '.join(existing) or 'none'}.")
        return sorted(partition["partition"] for partition in found[0]["partitions"])
    finally:
        await admin.close()
