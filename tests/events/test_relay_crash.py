"""The relay crashes between publishing and marking: nothing is lost and no effect doubles."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import text

from events.catalog import ExperimentCompletedV1
from events.outbox import record_event
from events.relay import FAULT_ENV, FAULT_EXIT_CODE, INBOX_RETENTION_DAYS, OUTBOX_RETENTION_DAYS, OutboxRelay, asyncpg_dsn
from labs64.platform import Platform
from labs64.settings import REPOSITORY_ROOT
from subgraphs.kit import Database
from tests.events.billing_probe import charge_counts, subscribed_user
from tests.events.kafka import group_lag, read_topic
from tests.events.polling import eventually

EVENTS = 5


async def _unpublished(labs: Database, event_ids: list[uuid.UUID]) -> int:
    async with labs.session() as session:
        statement = text("SELECT count(*) FROM event_outbox WHERE event_id = ANY(:ids) AND published_at IS NULL")
        return (await session.execute(statement, {"ids": event_ids})).scalar_one()


async def test_relay_crash_loses_and_doubles_nothing(backends: Platform, labs_database: Database, billing_database: Database) -> None:
    settings = backends.settings
    owner = await subscribed_user(billing_database)
    experiment_ids = [uuid.uuid4() for _ in range(EVENTS)]
    finished = datetime.now(UTC)

    backends.supervisor.stop_program("events-relay")
    try:
        async with labs_database.session() as session:
            envelopes = [
                await record_event(
                    session,
                    ExperimentCompletedV1(
                        experiment_id=experiment_id, owner_id=owner, title="crash probe", started_at=finished - timedelta(hours=1), finished_at=finished
                    ),
                )
                for experiment_id in experiment_ids
            ]
            await session.commit()
        event_ids = [envelope.id for envelope in envelopes]

        crashed = subprocess.run(
            [sys.executable, "-m", "events", "relay", "--module", "labs"],
            env=settings.to_environment() | {FAULT_ENV: "exit-after-publish", "PATH": "/usr/bin:/bin"},
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert crashed.returncode == FAULT_EXIT_CODE, crashed.stderr[-2000:]
        assert await _unpublished(labs_database, event_ids) == EVENTS
    finally:
        backends.supervisor.start_program("events-relay")

    await eventually(lambda: _unpublished(labs_database, event_ids), lambda n: n == 0, what="outbox rows published after restart")
    records = await read_topic(settings, ExperimentCompletedV1.topic())
    published = [str(e) for e in event_ids]
    copies = {event_id: sum(1 for r in records if dict(r.headers).get("ce_id", b"").decode() == event_id) for event_id in published}
    assert copies == dict.fromkeys(published, 2), "each event should be on the topic twice: once before the crash, once after"

    await eventually(lambda: group_lag(settings, "labs64.billing", ExperimentCompletedV1.topic()), lambda lag: lag == 0, what="billing consumer caught up")
    assert await charge_counts(billing_database, experiment_ids) == dict.fromkeys(experiment_ids, 1)


async def test_relay_prunes_old_published_rows(backends: Platform, labs_database: Database) -> None:
    owner = uuid.uuid4()
    finished = datetime.now(UTC)
    async with labs_database.session() as session:
        # Both rows are marked published in the transaction that adds them, so the running relay
        # never sends them.
        old, fresh = [
            await record_event(session, ExperimentCompletedV1(experiment_id=uuid.uuid4(), owner_id=owner, title="prune", started_at=None, finished_at=finished))
            for _ in range(2)
        ]
        await session.execute(
            text("UPDATE event_outbox SET published_at = now() - make_interval(days => :days) WHERE event_id = :id"),
            {"days": OUTBOX_RETENTION_DAYS + 1, "id": old.id},
        )
        await session.execute(text("UPDATE event_outbox SET published_at = now() WHERE event_id = :id"), {"id": fresh.id})
        await session.commit()

    connection = await asyncpg.connect(asyncpg_dsn(backends.settings, "labs"))
    try:
        await OutboxRelay(backends.settings, ["labs"]).prune(connection, "labs")
        remaining = {row["event_id"] for row in await connection.fetch("SELECT event_id FROM event_outbox WHERE event_id = ANY($1::uuid[])", [old.id, fresh.id])}
    finally:
        await connection.close()

    assert old.id not in remaining
    assert fresh.id in remaining


async def test_relay_prunes_old_inbox_rows(backends: Platform, billing_database: Database) -> None:
    old, fresh = uuid.uuid4(), uuid.uuid4()
    async with billing_database.session() as session:
        for event_id, age_days in ((old, INBOX_RETENTION_DAYS + 1), (fresh, 0)):
            await session.execute(
                text(
                    "INSERT INTO event_inbox (consumer_group, event_id, event_type, processed_at) "
                    "VALUES ('labs64.prune-test', :id, 'test', now() - make_interval(days => :days))"
                ),
                {"id": event_id, "days": age_days},
            )
        await session.commit()

    connection = await asyncpg.connect(asyncpg_dsn(backends.settings, "billing"))
    try:
        await OutboxRelay(backends.settings, ["billing"]).prune(connection, "billing")
        remaining = {row["event_id"] for row in await connection.fetch("SELECT event_id FROM event_inbox WHERE event_id = ANY($1::uuid[])", [old, fresh])}
    finally:
        await connection.close()

    assert old not in remaining
    assert fresh in remaining
