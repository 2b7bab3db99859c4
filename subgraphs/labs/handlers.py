"""Labs' event handlers: archive a deleted user's experiments, drop their memberships, and store plan quotas."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from events.catalog import PlanChangedV1, UserDeletedV1
from events.consumer import ConsumerSpec
from events.envelope import EventEnvelope, EventPayload
from subgraphs.labs.models import ExperimentQuotaRecord, ExperimentRecord, ExperimentStatus

__all__ = ["CONSUMER"]

logger = logging.getLogger(__name__)


async def archive_user_experiments(session: AsyncSession, envelope: EventEnvelope, payload: EventPayload) -> None:
    assert isinstance(payload, UserDeletedV1)
    now = datetime.now(UTC)
    result = await session.execute(
        update(ExperimentRecord)
        .where(ExperimentRecord.owner_id == payload.user_id, ExperimentRecord.status != ExperimentStatus.ARCHIVED.value)
        .values(status=ExperimentStatus.ARCHIVED.value, updated_at=now)
    )
    # The user also leaves every other experiment: a member list must not name a deleted user,
    # whose id would otherwise keep showing up in those experiments' members.
    left = await session.execute(
        update(ExperimentRecord)
        .where(ExperimentRecord.member_ids.contains([payload.user_id]))
        .values(member_ids=func.array_remove(ExperimentRecord.member_ids, payload.user_id), updated_at=now)
    )
    logger.info(
        "experiments archived for deleted user",
        extra={"user_id": str(payload.user_id), "experiments": result.rowcount, "memberships_removed": left.rowcount, "event_id": str(envelope.id)},
    )


async def apply_plan_quota(session: AsyncSession, envelope: EventEnvelope, payload: EventPayload) -> None:
    assert isinstance(payload, PlanChangedV1)
    table = ExperimentQuotaRecord.__table__
    values = {
        "user_id": payload.user_id,
        "plan_code": payload.plan_code,
        "max_experiments": payload.experiment_quota,
        "changed_at": payload.changed_at,
    }
    # Events of one user arrive in order, but a replay from the dead-letter topic may bring an old
    # change back: only a newer change overwrites the stored quota.
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={key: statement.excluded[key] for key in ("plan_code", "max_experiments", "changed_at")},
        where=table.c.changed_at < statement.excluded.changed_at,
    )
    await session.execute(statement)


CONSUMER = ConsumerSpec(
    group_id="labs64.labs",
    handlers={UserDeletedV1: archive_user_experiments, PlanChangedV1: apply_plan_quota},
)
