"""Envelopes: CloudEvents attributes, payload versions and errors for malformed records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from events.catalog import ExperimentCompletedV1, PlanChangedV1, UserDeletedV1
from events.envelope import EventPayload, InvalidEvent, decode_envelope, new_event, parse_payload


def _completed() -> ExperimentCompletedV1:
    return ExperimentCompletedV1(
        experiment_id=uuid.uuid4(), owner_id=uuid.uuid4(), title="Yeast growth", started_at=None, finished_at=datetime.now(UTC)
    )


def test_envelope_has_cloudevents_attributes() -> None:
    payload = _completed()
    envelope = new_event(payload)

    assert envelope.specversion == "1.0"
    assert envelope.source == "/labs64/labs"
    assert envelope.type == "io.labs64.labs.experiment.completed.v1"
    assert envelope.subject == str(payload.experiment_id)
    assert envelope.datacontenttype == "application/json"
    assert envelope.time.tzinfo is not None


def test_envelope_round_trips_through_bytes() -> None:
    envelope = new_event(_completed())

    decoded = decode_envelope(envelope.to_bytes())

    assert decoded == envelope
    assert parse_payload(decoded) == ExperimentCompletedV1.model_validate(envelope.data)



def test_topics_follow_aggregate_type() -> None:
    assert ExperimentCompletedV1.topic() == "labs64.experiment"
    assert UserDeletedV1.topic() == "labs64.user"
    assert PlanChangedV1.topic() == "labs64.subscription"


def test_plan_change_keyed_by_user() -> None:
    user_id = uuid.uuid4()
    payload = PlanChangedV1(user_id=user_id, subscription_id=uuid.uuid4(), plan_code="pro", experiment_quota=5, changed_at=datetime.now(UTC))

    assert new_event(payload).subject == str(user_id)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "tombstone"),
        (b"not json", "not a CloudEvents envelope"),
        (b'{"id": "x"}', "not a CloudEvents envelope"),
    ],
)
def test_decode_rejects_malformed_records(value: bytes | None, fragment: str) -> None:
    with pytest.raises(InvalidEvent, match=fragment):
        decode_envelope(value)


def test_parse_rejects_unknown_type() -> None:
    envelope = new_event(_completed()).model_copy(update={"type": "io.labs64.nothing.v9"})

    with pytest.raises(InvalidEvent, match="unknown event type 'io.labs64.nothing.v9'"):
        parse_payload(envelope)


def test_parse_rejects_invalid_payload() -> None:
    envelope = new_event(_completed()).model_copy(update={"data": {"experiment_id": "nope"}})

    with pytest.raises(InvalidEvent, match="invalid io.labs64.labs.experiment.completed.v1 payload: experiment_id"):
        parse_payload(envelope)


def test_duplicate_event_type_rejected() -> None:
    with pytest.raises(TypeError, match="already defined"):

        class Clash(EventPayload):  # noqa: F841 - defining the class is the act under test
            event_type = "io.labs64.labs.experiment.completed.v1"
            aggregate = "experiment"
            source = "/test"
