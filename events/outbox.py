"""The transactional outbox and the consumer inbox: two tables in every module's database.

A mutation inserts its event into ``event_outbox`` in the same transaction as its state change, so
the event exists exactly when the change does. The relay publishes unpublished rows in ``seq``
order and then sets ``published_at``. A consumer inserts each event id into ``event_inbox`` in the
same transaction as the event's effect, so a redelivered event finds its id and changes nothing.
The tables are created by each module's Alembic migrations; these definitions are for queries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, MetaData, String, Table, func, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from events.envelope import EventEnvelope, EventPayload, new_event

__all__ = ["OUTBOX", "INBOX", "NOTIFY_CHANNEL", "record_event", "claim_event"]

#: PostgreSQL channel on which a committed outbox insert wakes the relay.
NOTIFY_CHANNEL = "labs64_outbox"

_metadata = MetaData()

OUTBOX = Table(
    "event_outbox",
    _metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
)

# The relay prunes inbox rows after events.relay.INBOX_RETENTION_DAYS, once no replay can bring
# their events back.
INBOX = Table(
    "event_inbox",
    _metadata,
    Column("consumer_group", String(200), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


async def record_event(session: AsyncSession, payload: EventPayload) -> EventEnvelope:
    """Add an event to the outbox within the caller's transaction; the caller commits both together."""
    envelope = new_event(payload)
    await session.execute(
        insert(OUTBOX).values(
            event_id=envelope.id,
            topic=payload.topic(),
            key=envelope.subject,
            event_type=envelope.type,
            envelope=envelope.model_dump(mode="json"),
        )
    )
    # NOTIFY is transactional: PostgreSQL delivers it at commit, and drops it on rollback.
    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return envelope


async def claim_event(session: AsyncSession, consumer_group: str, envelope: EventEnvelope) -> bool:
    """Record that ``consumer_group`` handles this event now; False when it already did."""
    statement = (
        pg_insert(INBOX)
        .values(consumer_group=consumer_group, event_id=envelope.id, event_type=envelope.type)
        .on_conflict_do_nothing()
        .returning(INBOX.c.event_id)
    )
    return (await session.execute(statement)).first() is not None
