"""Billing's event handlers: charge completed experiments, cancel deleted users' subscriptions."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog import ExperimentCompletedV1, UserDeletedV1
from events.consumer import ConsumerSpec, PermanentEventError
from events.envelope import EventEnvelope, EventPayload
from subgraphs.billing.models import InvoiceLineRecord, InvoiceRecord, PlanRecord, SubscriptionRecord

__all__ = ["CONSUMER", "usage_charge_cents"]

logger = logging.getLogger(__name__)


def usage_charge_cents(started_at: datetime | None, finished_at: datetime, compute_hour_price_cents: int) -> int:
    """Compute time at the plan's hourly price, rounded up to whole cents; a priced run costs at least 1 cent."""
    if compute_hour_price_cents <= 0:
        return 0
    seconds = max((finished_at - started_at).total_seconds(), 0.0) if started_at else 0.0
    return max(1, math.ceil(seconds * compute_hour_price_cents / 3600))


async def _open_invoice(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> InvoiceRecord:
    statement = (
        select(InvoiceRecord)
        .where(InvoiceRecord.user_id == user_id, InvoiceRecord.status == "open")
        .order_by(InvoiceRecord.period_start.desc())
        .limit(1)
        .with_for_update()
    )
    invoice = (await session.execute(statement)).scalar_one_or_none()
    if invoice is not None:
        return invoice
    period_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    invoice = InvoiceRecord(user_id=user_id, number=f"INV-{now:%Y%m}-U{user_id.hex[:12]}", period_start=period_start, status="open")
    session.add(invoice)
    await session.flush()
    return invoice


async def charge_completed_experiment(session: AsyncSession, envelope: EventEnvelope, payload: EventPayload) -> None:
    assert isinstance(payload, ExperimentCompletedV1)
    statement = (
        select(PlanRecord)
        .join(SubscriptionRecord, SubscriptionRecord.plan_id == PlanRecord.id)
        .where(SubscriptionRecord.user_id == payload.owner_id, SubscriptionRecord.status == "active")
    )
    plan = (await session.execute(statement)).scalar_one_or_none()
    if plan is None:
        raise PermanentEventError(
            f"user {payload.owner_id} has no active subscription, so experiment {payload.experiment_id} has no price; "
            "subscribe the user to a plan, then replay the event with `labs64 events dlq replay`"
        )

    amount = usage_charge_cents(payload.started_at, payload.finished_at, plan.compute_hour_price_cents)
    invoice = await _open_invoice(session, payload.owner_id, datetime.now(UTC))
    session.add(
        InvoiceLineRecord(
            invoice_id=invoice.id,
            description=f"Compute for {payload.title}"[:200],
            amount_cents=amount,
            experiment_id=payload.experiment_id,
        )
    )
    logger.info(
        "usage charged",
        extra={"experiment_id": str(payload.experiment_id), "invoice": invoice.number, "amount_cents": amount, "event_id": str(envelope.id)},
    )


async def cancel_deleted_user_subscription(session: AsyncSession, envelope: EventEnvelope, payload: EventPayload) -> None:
    assert isinstance(payload, UserDeletedV1)
    result = await session.execute(
        update(SubscriptionRecord)
        .where(SubscriptionRecord.user_id == payload.user_id, SubscriptionRecord.status == "active")
        .values(status="cancelled")
    )
    logger.info("subscription cancelled for deleted user", extra={"user_id": str(payload.user_id), "cancelled": result.rowcount, "event_id": str(envelope.id)})


CONSUMER = ConsumerSpec(
    group_id="labs64.billing",
    handlers={ExperimentCompletedV1: charge_completed_experiment, UserDeletedV1: cancel_deleted_user_subscription},
)
