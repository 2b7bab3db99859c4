"""The platform's event types: one payload class per type and version.

A breaking change to a payload adds a new class with the next version suffix; consumers handle
both until every producer emits the new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from events.envelope import EventPayload

__all__ = ["ExperimentCompletedV1", "UserDeletedV1", "PlanChangedV1", "EXPERIMENT", "USER", "SUBSCRIPTION"]

EXPERIMENT = "experiment"
USER = "user"
SUBSCRIPTION = "subscription"


class ExperimentCompletedV1(EventPayload):
    """An experiment reached COMPLETED; billing charges its compute time."""

    event_type = "io.labs64.labs.experiment.completed.v1"
    aggregate = EXPERIMENT
    source = "/labs64/labs"

    experiment_id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    started_at: datetime | None
    finished_at: datetime

    def aggregate_id(self) -> str:
        return str(self.experiment_id)


class UserDeletedV1(EventPayload):
    """A user profile was deleted; labs archives their experiments and billing cancels their subscription."""

    event_type = "io.labs64.users.user.deleted.v1"
    aggregate = USER
    source = "/labs64/users"

    user_id: uuid.UUID
    deleted_at: datetime

    def aggregate_id(self) -> str:
        return str(self.user_id)


class PlanChangedV1(EventPayload):
    """A user moved to another plan; labs enforces the new experiment quota."""

    event_type = "io.labs64.billing.subscription.plan_changed.v1"
    aggregate = SUBSCRIPTION
    source = "/labs64/billing"

    user_id: uuid.UUID
    subscription_id: uuid.UUID
    plan_code: str
    experiment_quota: int
    changed_at: datetime

    def aggregate_id(self) -> str:
        # Every plan change starts a new subscription row, so keying by the user keeps one user's
        # changes in one partition, in order.
        return str(self.user_id)
