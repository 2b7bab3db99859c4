"""Queries on billing's tables that the event tests use to see an effect."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from subgraphs.kit import Database


async def subscribed_user(billing: Database, offset: int = 0) -> uuid.UUID:
    """A seeded user with an active subscription to a plan that charges compute time."""
    async with billing.session() as session:
        return (
            await session.execute(
                text(
                    "SELECT s.user_id FROM subscription s JOIN plan p ON p.id = s.plan_id "
                    "WHERE s.status = 'active' AND p.compute_hour_price_cents > 0 ORDER BY s.user_id OFFSET :offset LIMIT 1"
                ),
                {"offset": offset},
            )
        ).scalar_one()


async def charge_counts(billing: Database, experiment_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Invoice lines per experiment id (0 when none)."""
    async with billing.session() as session:
        rows = (
            await session.execute(
                text("SELECT experiment_id, count(*) FROM invoice_line WHERE experiment_id = ANY(:ids) GROUP BY experiment_id"),
                {"ids": experiment_ids},
            )
        ).all()
    counts = dict.fromkeys(experiment_ids, 0)
    counts.update({experiment_id: count for experiment_id, count in rows})
    return counts
