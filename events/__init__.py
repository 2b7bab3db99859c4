"""Cross-module events: CloudEvents envelopes, the transactional outbox, the relay and consumers.

Import payload classes from ``events.catalog`` and write events with ``record_event`` inside a
mutation's transaction; the relay and the consumers run as their own processes.
"""

from events.catalog import ExperimentCompletedV1, PlanChangedV1, UserDeletedV1
from events.consumer import ConsumerSpec, EventConsumer, PermanentEventError
from events.envelope import EventEnvelope, EventPayload, InvalidEvent, decode_envelope, new_event, parse_payload, topic_for
from events.outbox import INBOX, OUTBOX, claim_event, record_event
from events.relay import OutboxRelay
from events.topics import DEAD_LETTER_TOPIC, TOPICS, ensure_topics

__all__ = [
    "DEAD_LETTER_TOPIC",
    "INBOX",
    "OUTBOX",
    "TOPICS",
    "ConsumerSpec",
    "EventConsumer",
    "EventEnvelope",
    "EventPayload",
    "ExperimentCompletedV1",
    "InvalidEvent",
    "OutboxRelay",
    "PermanentEventError",
    "PlanChangedV1",
    "UserDeletedV1",
    "claim_event",
    "decode_envelope",
    "ensure_topics",
    "new_event",
    "parse_payload",
    "record_event",
    "topic_for",
]
