"""DataLoaders of the billing module that the kit's generic entity and group loaders cannot express.

Each loader turns the keys collected in one event-loop tick into one SQL statement, so a page of
N users or experiments costs one query instead of N.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from strawberry.dataloader import DataLoader

from subgraphs.billing.models import InvoiceLineRecord, PlanRecord, SubscriptionRecord
from subgraphs.kit import Database

__all__ = [
    "ACTIVE_SUBSCRIPTION_LOADER",
    "EXPERIMENT_COST_LOADER",
    "ActiveSubscription",
    "active_subscription_loader",
    "experiment_cost_loader",
]

#: Keys of these loaders in ``RequestContext.loader``.
ACTIVE_SUBSCRIPTION_LOADER = "billing.active_subscription_by_user_id"
EXPERIMENT_COST_LOADER = "billing.cost_cents_by_experiment_id"


@dataclass(frozen=True)
class ActiveSubscription:
    """A user's active subscription together with its plan, read in one join."""

    subscription: SubscriptionRecord
    plan: PlanRecord


def active_subscription_loader(database: Database) -> DataLoader[uuid.UUID, ActiveSubscription | None]:
    """Build a loader returning each user's active subscription and plan, or None when the user has none."""

    async def load(user_ids: Sequence[uuid.UUID]) -> list[ActiveSubscription | None]:
        statement = (
            select(SubscriptionRecord, PlanRecord)
            .join(PlanRecord, PlanRecord.id == SubscriptionRecord.plan_id)
            .where(SubscriptionRecord.user_id.in_(list(user_ids)), SubscriptionRecord.status == "active")
        )
        async with database.session() as session:
            rows = (await session.execute(statement)).all()

        # The partial unique index allows at most one active subscription per user, so keying the
        # rows by user id drops none of them.
        by_user = {subscription.user_id: ActiveSubscription(subscription, plan) for subscription, plan in rows}
        return [by_user.get(user_id) for user_id in user_ids]

    return DataLoader(load_fn=load)


def experiment_cost_loader(database: Database) -> DataLoader[uuid.UUID, int]:
    """Build a loader returning the sum of invoice line amounts in cents per experiment, 0 when none."""

    async def load(experiment_ids: Sequence[uuid.UUID]) -> list[int]:
        statement = (
            select(InvoiceLineRecord.experiment_id, func.sum(InvoiceLineRecord.amount_cents))
            .where(InvoiceLineRecord.experiment_id.in_(list(experiment_ids)))
            .group_by(InvoiceLineRecord.experiment_id)
        )
        async with database.session() as session:
            rows = (await session.execute(statement)).all()

        totals = {experiment_id: int(total) for experiment_id, total in rows}
        return [totals.get(experiment_id, 0) for experiment_id in experiment_ids]

    return DataLoader(load_fn=load)
