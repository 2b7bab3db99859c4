"""Tables of the labs module, in its own SQLAlchemy registry so its migrations see only them."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = ["LabsModel", "ExperimentRecord", "ExperimentQuotaRecord", "ExperimentStatus", "TRANSITIONS"]


def _now() -> datetime:
    return datetime.now(UTC)


class ExperimentStatus(str, enum.Enum):
    DRAFT = "draft"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    # Set only by the platform when the owner is deleted, never through transitionExperiment.
    ARCHIVED = "archived"


#: The lifecycle: a draft starts running, and a running experiment completes or fails. Completed
#: and failed are final.
TRANSITIONS: dict[ExperimentStatus, frozenset[ExperimentStatus]] = {
    ExperimentStatus.DRAFT: frozenset({ExperimentStatus.RUNNING}),
    ExperimentStatus.RUNNING: frozenset({ExperimentStatus.COMPLETED, ExperimentStatus.FAILED}),
    ExperimentStatus.COMPLETED: frozenset(),
    ExperimentStatus.FAILED: frozenset(),
    ExperimentStatus.ARCHIVED: frozenset(),
}


class LabsModel(SQLModel, registry=registry()):
    pass


class ExperimentRecord(LabsModel, table=True):
    __tablename__ = "experiment"
    __table_args__ = (
        Index("ix_experiment_owner_id", "owner_id", "created_at", "id"),
        Index("ix_experiment_created_at", "created_at", "id"),
        Index("ix_experiment_member_ids", "member_ids", postgresql_using="gin"),
        CheckConstraint("status IN ('draft', 'running', 'completed', 'failed', 'archived')", name="ck_experiment_status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The owner and members are users of the users module, which owns their rows; this module
    # stores only their ids.
    owner_id: uuid.UUID
    member_ids: list[uuid.UUID] = Field(default_factory=list, sa_column=Column(ARRAY(Uuid()), nullable=False))
    title: str = Field(max_length=200)
    status: str = Field(default=ExperimentStatus.DRAFT.value, max_length=16)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    result_summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ExperimentQuotaRecord(LabsModel, table=True):
    """How many experiments a user may own that are not archived, as set by billing's latest plan event."""

    __tablename__ = "experiment_quota"

    user_id: uuid.UUID = Field(primary_key=True)
    plan_code: str = Field(max_length=50)
    max_experiments: int
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
