"""Seed loading of the billing module: plans, subscriptions, invoices and invoice lines."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from labs64.dataset import EPOCH, Dataset
from subgraphs.billing.models import InvoiceLineRecord, InvoiceRecord, PlanRecord, SubscriptionRecord
from subgraphs.kit import Database

__all__ = ["load_seed", "CHUNK_SIZE"]

#: Rows per ``execute`` call. A chunk bounds the memory of one call's parameter list while still
#: sending thousands of rows at a time.
CHUNK_SIZE = 5_000


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _insert_rows(connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    for chunk in _chunks(rows, CHUNK_SIZE):
        await connection.execute(insert(table), list(chunk))
    return len(rows)


async def load_seed(database: Database, dataset: Dataset) -> dict[str, int]:
    """Insert the billing rows of ``dataset`` in one transaction and return the row count per table.

    The tables must be empty, and the caller resets them first. A leftover row with a seeded id or
    invoice number violates a unique constraint and rolls back the whole transaction.
    """
    # SeedPlan has no creation time, so plans count as created at the data set's epoch, before
    # every other seeded row.
    plans = [
        {
            "id": plan.id,
            "code": plan.code,
            "name": plan.name,
            "monthly_price_cents": plan.monthly_price_cents,
            "experiment_quota": plan.experiment_quota,
            "compute_hour_price_cents": plan.compute_hour_price_cents,
            "created_at": EPOCH,
        }
        for plan in dataset.plans
    ]
    subscriptions = [
        {
            "id": subscription.id,
            "user_id": subscription.user_id,
            "plan_id": subscription.plan_id,
            "status": subscription.status,
            "created_at": subscription.created_at,
        }
        for subscription in dataset.subscriptions
    ]
    invoices = [
        {
            "id": invoice.id,
            "user_id": invoice.user_id,
            "number": invoice.number,
            "period_start": invoice.period_start,
            "status": invoice.status,
            "currency": invoice.currency,
            "created_at": invoice.created_at,
        }
        for invoice in dataset.invoices
    ]
    lines = [
        {
            "id": line.id,
            "invoice_id": line.invoice_id,
            "description": line.description,
            "amount_cents": line.amount_cents,
            "experiment_id": line.experiment_id,
            "created_at": line.created_at,
        }
        for invoice in dataset.invoices
        for line in invoice.lines
    ]

    # Parents go first because subscription and invoice_line have foreign keys to plan and invoice.
    counts: dict[str, int] = {}
    async with database.engine.begin() as connection:
        counts["plan"] = await _insert_rows(connection, PlanRecord.__table__, plans)  # type: ignore[arg-type]
        counts["subscription"] = await _insert_rows(connection, SubscriptionRecord.__table__, subscriptions)  # type: ignore[arg-type]
        counts["invoice"] = await _insert_rows(connection, InvoiceRecord.__table__, invoices)  # type: ignore[arg-type]
        counts["invoice_line"] = await _insert_rows(connection, InvoiceLineRecord.__table__, lines)  # type: ignore[arg-type]
    return counts
