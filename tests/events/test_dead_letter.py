"""Malformed and unappliable events land in the dead-letter topic and never block their partition."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from events.catalog import ExperimentCompletedV1, UserDeletedV1
from events.envelope import new_event
from events.topics import DEAD_LETTER_TOPIC
from labs64.platform import Platform
from subgraphs.kit import Database
from tests.events.billing_probe import charge_counts, subscribed_user
from tests.events.kafka import produce, read_topic
from tests.events.polling import eventually

LABS64 = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "labs64"


def _completed(experiment_id: uuid.UUID, owner_id: uuid.UUID) -> bytes:
    finished = datetime.now(UTC)
    payload = ExperimentCompletedV1(
        experiment_id=experiment_id, owner_id=owner_id, title="dead-letter probe", started_at=finished - timedelta(minutes=30), finished_at=finished
    )
    return new_event(payload).to_bytes()


async def _dead_letters_with_key(platform: Platform, key: bytes) -> list:
    return [record for record in await read_topic(platform.settings, DEAD_LETTER_TOPIC) if record.key == key]


def _cli(platform: Platform, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = platform.settings.to_environment() | {"PATH": "/usr/bin:/bin"}
    return subprocess.run([str(LABS64), *arguments], capture_output=True, text=True, env=environment, timeout=120)


async def test_poison_message_dead_lettered_and_skipped(backends: Platform, billing_database: Database) -> None:
    owner = await subscribed_user(billing_database, offset=1)
    experiment_id = uuid.uuid4()
    key = str(experiment_id).encode()
    poison = b'{"specversion": "1.0", "id": "not-a-uuid"'

    # Same key, so same partition: the valid event sits right behind the poison message.
    await produce(backends.settings, ExperimentCompletedV1.topic(), [(key, poison), (key, _completed(experiment_id, owner))])

    await eventually(lambda: charge_counts(billing_database, [experiment_id]), lambda c: c[experiment_id] == 1, what="valid event behind the poison applied")
    dead = await eventually(lambda: _dead_letters_with_key(backends, key), lambda records: len(records) == 1, what="poison message dead-lettered")
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert dead[0].value == poison
    assert headers["dlq_topic"] == ExperimentCompletedV1.topic()
    assert headers["dlq_group"] == "labs64.billing"
    assert headers["dlq_error_type"] == "InvalidEvent"
    assert "not a CloudEvents envelope" in headers["dlq_error"]


async def test_unpriced_event_dead_lettered_then_replayed(backends: Platform, billing_database: Database) -> None:
    # A user billing has never heard of has no subscription, so the charge has no price.
    owner = uuid.uuid4()
    experiment_id = uuid.uuid4()
    key = str(experiment_id).encode()
    await produce(backends.settings, ExperimentCompletedV1.topic(), [(key, _completed(experiment_id, owner))])

    dead = await eventually(lambda: _dead_letters_with_key(backends, key), lambda records: len(records) == 1, what="unpriced event dead-lettered")
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert headers["dlq_error_type"] == "PermanentEventError"
    assert f"user {owner} has no active subscription" in headers["dlq_error"]
    assert await charge_counts(billing_database, [experiment_id]) == {experiment_id: 0}

    listed = _cli(backends, "events", "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    offsets = [entry["offset"] for entry in map(json.loads, listed.stdout.splitlines()) if entry["key"] == str(experiment_id)]
    assert offsets == [dead[0].offset]

    async with billing_database.session() as session:
        plan_id = (await session.execute(text("SELECT id FROM plan WHERE compute_hour_price_cents > 0 LIMIT 1"))).scalar_one()
        await session.execute(
            text("INSERT INTO subscription (id, user_id, plan_id, status, created_at) VALUES (:id, :user, :plan, 'active', now())"),
            {"id": uuid.uuid4(), "user": owner, "plan": plan_id},
        )
        await session.commit()

    replayed = _cli(backends, "events", "dlq", "replay", "--offset", str(dead[0].offset))
    assert replayed.returncode == 0, replayed.stderr
    await eventually(lambda: charge_counts(billing_database, [experiment_id]), lambda c: c[experiment_id] == 1, what="replayed event applied")


def test_dlq_replay_rejects_unknown_offset(backends: Platform) -> None:
    result = _cli(backends, "events", "dlq", "replay", "--offset", "999999")

    assert result.returncode == 1
    assert "No dead-lettered record at offset(s) 999999" in result.stderr


def test_tail_rejects_unknown_topic(backends: Platform) -> None:
    result = _cli(backends, "events", "tail", "labs64.nothing", "--idle-timeout", "1")

    assert result.returncode == 1
    assert "Topic 'labs64.nothing' not found" in result.stderr
    assert "labs64.experiment" in result.stderr


async def test_tail_prints_records_from_beginning(backends: Platform) -> None:
    # A random user id that no module stores, so the consumers apply the event without any effect.
    user_id = uuid.uuid4()
    key = str(user_id).encode()
    await produce(backends.settings, "labs64.user", [(key, new_event(UserDeletedV1(user_id=user_id, deleted_at=datetime.now(UTC))).to_bytes())])

    result = _cli(backends, "events", "tail", "labs64.user", "--from-beginning", "--idle-timeout", "3")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    mine = [line for line in lines if line["key"] == key.decode()]
    assert len(mine) == 1
    assert mine[0]["topic"] == "labs64.user"
    assert mine[0]["value"]["type"] == UserDeletedV1.event_type
    assert mine[0]["value"]["data"]["user_id"] == str(user_id)


async def test_dlq_replay_all_skips_replayed(backends: Platform) -> None:
    # A record that is not an event is dead-lettered again after every replay, so the topic
    # keeps growing; each --all must start after the records the previous --all replayed.
    key = str(uuid.uuid4()).encode()
    await produce(backends.settings, ExperimentCompletedV1.topic(), [(key, b"not an event")])
    await eventually(lambda: _dead_letters_with_key(backends, key), lambda records: len(records) >= 1, what="record dead-lettered")

    first = _cli(backends, "events", "dlq", "replay", "--all")
    second = _cli(backends, "events", "dlq", "replay", "--all")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    first_offsets = _replayed_offsets(first.stdout)
    second_offsets = _replayed_offsets(second.stdout)
    assert first_offsets, first.stdout
    assert all(offset > max(first_offsets) for offset in second_offsets), (first_offsets, second_offsets)


def _replayed_offsets(output: str) -> list[int]:
    listed = output.strip().rsplit("offsets ", 1)[1].rstrip(".")
    return [] if listed == "none" else [int(part) for part in listed.split(", ")]
