"""Event envelopes: CloudEvents 1.0 attributes around a versioned, typed payload.

On the wire an event is one Kafka record: the key is the aggregate id (so one aggregate's events
share a partition and keep their order), and the value is the envelope in CloudEvents' structured
JSON form.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "EventEnvelope",
    "EventPayload",
    "InvalidEvent",
    "decode_envelope",
    "new_event",
    "parse_payload",
    "payload_types",
    "topic_for",
]

#: Every topic of the platform's events starts with this prefix, followed by the aggregate type.
TOPIC_PREFIX = "labs64."


class InvalidEvent(ValueError):
    """A record is not a well-formed event: undecodable JSON, missing attributes or a bad payload."""


def topic_for(aggregate: str) -> str:
    """Name of the topic that carries every event of one aggregate type."""
    return f"{TOPIC_PREFIX}{aggregate}"


class EventPayload(BaseModel):
    """Base of every event payload; a subclass is one version of one event type.

    Subclasses set ``event_type`` (the CloudEvents ``type``, ending in the version), ``aggregate``
    (the aggregate type, which names the topic) and ``source`` (the module that emits it), and
    implement ``aggregate_id``. Defining a subclass registers it for decoding.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    aggregate: ClassVar[str]
    source: ClassVar[str]

    _registry: ClassVar[dict[str, type[EventPayload]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            existing = EventPayload._registry.get(cls.event_type)
            if existing is not None and existing.__qualname__ != cls.__qualname__:
                raise TypeError(f"event type {cls.event_type!r} is already defined by {existing.__qualname__}")
            EventPayload._registry[cls.event_type] = cls

    def aggregate_id(self) -> str:
        raise NotImplementedError

    @classmethod
    def topic(cls) -> str:
        return topic_for(cls.aggregate)


def payload_types() -> dict[str, type[EventPayload]]:
    """Return every registered payload class by its CloudEvents ``type``."""
    return dict(EventPayload._registry)


class EventEnvelope(BaseModel):
    """The CloudEvents 1.0 attributes of one event and its payload as JSON ``data``."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(description="Unique event id; consumers record it in their inbox to apply the event once.")
    source: str = Field(description="URI reference of the emitting module, such as /labs64/labs.")
    type: str = Field(description="Event type with its version suffix, such as io.labs64.labs.experiment.completed.v1.")
    subject: str = Field(description="Id of the aggregate the event is about; also the Kafka record key.")
    time: datetime = Field(description="When the state change was committed (UTC).")
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def new_event(payload: EventPayload, *, event_id: uuid.UUID | None = None, time: datetime | None = None) -> EventEnvelope:
    """Wrap a payload in a new envelope with a fresh id and the current time."""
    return EventEnvelope(
        id=event_id or uuid.uuid4(),
        source=payload.source,
        type=payload.event_type,
        subject=payload.aggregate_id(),
        time=time or datetime.now(UTC),
        data=payload.model_dump(mode="json"),
    )


def decode_envelope(value: bytes | None) -> EventEnvelope:
    """Parse a Kafka record value into an envelope, or raise ``InvalidEvent`` saying why not."""
    if value is None:
        raise InvalidEvent("the record has no value (a tombstone), but events are never empty")
    try:
        return EventEnvelope.model_validate_json(value)
    except ValidationError as error:
        raise InvalidEvent(f"not a CloudEvents envelope: {_summary(error)}") from error


def parse_payload(envelope: EventEnvelope) -> EventPayload:
    """Validate an envelope's ``data`` against the payload class of its ``type``."""
    payload_class = EventPayload._registry.get(envelope.type)
    if payload_class is None:
        known = ", ".join(sorted(EventPayload._registry)) or "none"
        raise InvalidEvent(f"unknown event type {envelope.type!r}; known types: {known}")
    try:
        return payload_class.model_validate(envelope.data)
    except ValidationError as error:
        raise InvalidEvent(f"invalid {envelope.type} payload: {_summary(error)}") from error


def _summary(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {item['msg']}" for item in error.errors()[:5]]
    return "; ".join(parts)
