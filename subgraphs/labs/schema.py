"""GraphQL schema of the labs module: the ``Experiment`` entity and ``User.experiments``."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from events.catalog import ExperimentCompletedV1
from events.outbox import record_event
from identity.catalog import ADMIN, EXPERIMENTS_READ, EXPERIMENTS_WRITE
from subgraphs.kit import (
    Connection,
    NotFoundError,
    Principal,
    RequestContext,
    RequiresPermission,
    ValidationError,
    current_principal,
    entity_loader,
    forbidden,
    paginate,
    parse_id,
    requires_permission,
    try_parse_id,
)
from subgraphs.labs.models import TRANSITIONS, ExperimentQuotaRecord, ExperimentRecord
from subgraphs.labs.models import ExperimentStatus as StoredStatus

__all__ = ["schema", "Experiment", "User"]

MAX_TITLE = 200
MAX_MEMBERS = 50


@strawberry.enum(
    description="Lifecycle of an experiment: DRAFT -> RUNNING -> COMPLETED or FAILED. "
    "ARCHIVED: its owner was deleted; set by the platform, not by transitionExperiment."
)
class ExperimentStatus(enum.Enum):
    DRAFT = "draft"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ARCHIVED = "archived"


def _experiment_loader(info: Info[RequestContext, None]):
    return info.context.loader(ExperimentRecord, lambda db: entity_loader(db, ExperimentRecord))


# -- who may see and change experiments -------------------------------------------------------


def _takes_part(principal: Principal, record: ExperimentRecord) -> bool:
    return principal.subject == record.owner_id or principal.subject in record.member_ids


def can_see(principal: Principal, record: ExperimentRecord) -> bool:
    """Owner, members and admins see an experiment, if their token lets them read experiments."""
    if not principal.has(EXPERIMENTS_READ):
        return False
    return principal.has(ADMIN) or _takes_part(principal, record)


def _visible_to(statement, principal: Principal):  # type: ignore[no-untyped-def]
    """Restrict an experiments query to the rows ``principal`` may see."""
    if principal.has(ADMIN):
        return statement
    return statement.where(
        or_(ExperimentRecord.owner_id == principal.subject, ExperimentRecord.member_ids.contains([principal.subject]))
    )


async def _experiment_page(
    info: Info[RequestContext, None], statement: Select, first: int | None, after: str | None, status: ExperimentStatus | None
) -> Connection[Experiment]:
    """Return one page of ``statement``'s experiments that the caller may see, optionally of one status."""
    statement = _visible_to(statement, await current_principal(info))
    if status is not None:
        statement = statement.where(ExperimentRecord.status == status.value)
    return await paginate(info.context.database, statement, ExperimentRecord, first=first, after=after, to_node=Experiment.from_record)


class CanSeeExperiment(BasePermission):
    """Allow the experiment named by the ``id`` argument to its owner, its members and admins."""

    message = "Forbidden: only the experiment's owner, its members and admins may read it."
    error_extensions = {"code": "FORBIDDEN", "permission": EXPERIMENTS_READ}

    async def has_permission(self, source: object, info: Info[RequestContext, None], **kwargs: object) -> bool:
        principal = await current_principal(info)
        record = await _experiment_loader(info).load(parse_id(kwargs["id"]))  # type: ignore[arg-type]
        # A missing experiment reveals nothing, because the field returns null.
        return record is None or can_see(principal, record)


ReadsExperiments = requires_permission(EXPERIMENTS_READ)
WritesExperiments = requires_permission(EXPERIMENTS_WRITE)


# The users module describes User; a second description here would make composition warn.
@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @strawberry.field(
        description="Experiments the user owns or is a member of, newest first; only those the caller may see.",
        permission_classes=[ReadsExperiments],
        directives=[RequiresPermission(name=EXPERIMENTS_READ)],
    )
    async def experiments(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        status: ExperimentStatus | None = None,
    ) -> Connection[Experiment] | None:
        # Nullable because the router fetches this field from labs while users serves the rest of
        # User: when labs is down, only this field becomes null instead of the whole user.
        user_id = parse_id(self.id)
        statement = select(ExperimentRecord).where(
            or_(ExperimentRecord.owner_id == user_id, ExperimentRecord.member_ids.contains([user_id]))
        )
        return await _experiment_page(info, statement, first, after, status)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        # The users module owns user rows; this stub needs only the id, so it costs no query.
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="A lab experiment and its lifecycle.")
class Experiment:
    id: strawberry.ID
    title: str
    status: ExperimentStatus
    parameters: JSON = strawberry.field(description="Free-form experiment parameters as a JSON object.")
    result_summary: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    owner_id: strawberry.Private[uuid.UUID]
    member_ids: strawberry.Private[list[uuid.UUID]]

    @strawberry.field(description="User who created the experiment.")
    def owner(self) -> User:
        return User(id=strawberry.ID(str(self.owner_id)))

    @strawberry.field(description="Users who collaborate on the experiment, besides its owner.")
    def members(self) -> list[User]:
        return [User(id=strawberry.ID(str(member))) for member in self.member_ids]

    @classmethod
    def from_record(cls, record: ExperimentRecord) -> Experiment:
        return cls(
            id=strawberry.ID(str(record.id)),
            title=record.title,
            status=ExperimentStatus(record.status),
            parameters=record.parameters,
            result_summary=record.result_summary,
            created_at=record.created_at,
            updated_at=record.updated_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            owner_id=record.owner_id,
            member_ids=list(record.member_ids),
        )

    @classmethod
    async def resolve_reference(cls, info: Info[RequestContext, None], id: strawberry.ID) -> Experiment | None:
        principal = await current_principal(info)
        parsed = try_parse_id(id)
        if parsed is None:
            return None
        record = await _experiment_loader(info).load(parsed)
        # Another module may reference an experiment the caller may not see: it resolves to null.
        return cls.from_record(record) if record is not None and can_see(principal, record) else None


@strawberry.input(description="A new experiment, created as a draft.")
class CreateExperimentInput:
    owner_id: strawberry.ID
    title: str
    parameters: JSON = strawberry.field(default_factory=dict, description="A JSON object of parameters.")
    member_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="Move an experiment to its next lifecycle status.")
class TransitionExperimentInput:
    id: strawberry.ID
    status: ExperimentStatus
    result_summary: str | None = strawberry.field(default=None, description="Required when completing or failing.")


CreateExperimentResult = Annotated[Experiment | ValidationError, strawberry.union("CreateExperimentResult")]
TransitionExperimentResult = Annotated[
    Experiment | ValidationError | NotFoundError, strawberry.union("TransitionExperimentResult")
]


def _validate_new_experiment(data: CreateExperimentInput) -> ValidationError | None:
    if try_parse_id(data.owner_id) is None:
        return ValidationError(message=f"Invalid ownerId {data.owner_id!r}: expected a user's UUID.", field="ownerId")
    if not data.title.strip():
        return ValidationError(message="Invalid title: it must not be empty.", field="title")
    if len(data.title) > MAX_TITLE:
        return ValidationError(message=f"Invalid title: {len(data.title)} characters, at most {MAX_TITLE} allowed.", field="title")
    if not isinstance(data.parameters, dict):
        return ValidationError(
            message=f"Invalid parameters {data.parameters!r}: expected a JSON object such as {{\"replicates\": 3}}.",
            field="parameters",
        )
    if len(data.member_ids) > MAX_MEMBERS:
        return ValidationError(message=f"Too many members: {len(data.member_ids)}, at most {MAX_MEMBERS} allowed.", field="memberIds")
    for member in data.member_ids:
        if try_parse_id(member) is None:
            return ValidationError(message=f"Invalid member id {member!r}: expected a user's UUID.", field="memberIds")
    return None


def _validate_transition(record: ExperimentRecord, data: TransitionExperimentInput) -> ValidationError | None:
    current = StoredStatus(record.status)
    target = StoredStatus(data.status.value)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.name for s in TRANSITIONS[current])) or "none, the status is final"
        return ValidationError(
            message=f"Invalid transition {current.name} -> {target.name} for experiment {record.id}; allowed next statuses: {allowed}.",
            field="status",
            code="INVALID_TRANSITION",
        )
    if target in (StoredStatus.COMPLETED, StoredStatus.FAILED) and not (data.result_summary or "").strip():
        return ValidationError(
            message=f"Missing resultSummary: a {target.name} experiment needs a summary of its outcome.",
            field="resultSummary",
        )
    return None


async def _quota_error(session: AsyncSession, owner_id: uuid.UUID) -> ValidationError | None:
    """Check the owner's plan quota; the row lock serialises concurrent creations for one owner."""
    statement = select(ExperimentQuotaRecord).where(ExperimentQuotaRecord.user_id == owner_id).with_for_update()
    quota = (await session.execute(statement)).scalar_one_or_none()
    if quota is None:
        # No plan event has reached labs for this user yet, so there is nothing to enforce.
        return None
    owned = await session.scalar(
        select(func.count())
        .select_from(ExperimentRecord)
        .where(ExperimentRecord.owner_id == owner_id, ExperimentRecord.status != StoredStatus.ARCHIVED.value)
    )
    if owned is not None and owned >= quota.max_experiments:
        return ValidationError(
            message=f"Experiment quota exceeded: user {owner_id} owns {owned} experiments and plan {quota.plan_code!r} "
            f"allows {quota.max_experiments}; change to a larger plan or archive experiments first.",
            field="ownerId",
            code="QUOTA_EXCEEDED",
        )
    return None


@strawberry.type
class Query:
    @strawberry.field(description="One experiment by id, or null.", permission_classes=[ReadsExperiments, CanSeeExperiment],
        directives=[RequiresPermission(name=EXPERIMENTS_READ)],
    )
    async def experiment(self, info: Info[RequestContext, None], id: strawberry.ID) -> Experiment | None:
        record = await _experiment_loader(info).load(parse_id(id))
        return Experiment.from_record(record) if record is not None else None

    @strawberry.field(
        description="Every experiment the caller may see (all of them for admins), newest first, optionally of one status.",
        permission_classes=[ReadsExperiments],
        directives=[RequiresPermission(name=EXPERIMENTS_READ)],
    )
    async def experiments(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        status: ExperimentStatus | None = None,
    ) -> Connection[Experiment] | None:
        return await _experiment_page(info, select(ExperimentRecord), first, after, status)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a draft experiment owned by the caller (admins may name another owner).",
        permission_classes=[WritesExperiments],
        directives=[RequiresPermission(name=EXPERIMENTS_WRITE)],
    )
    async def create_experiment(self, info: Info[RequestContext, None], input: CreateExperimentInput) -> CreateExperimentResult | None:
        invalid = _validate_new_experiment(input)
        if invalid is not None:
            return invalid

        owner_id = uuid.UUID(input.owner_id)
        principal = await current_principal(info)
        if owner_id != principal.subject and not principal.has(ADMIN):
            raise forbidden(
                f"Forbidden: you may create experiments only for yourself (ownerId {principal.subject}), not for {owner_id}.",
                permission=ADMIN,
            )
        members = list(dict.fromkeys(uuid.UUID(m) for m in input.member_ids if uuid.UUID(m) != owner_id))
        record = ExperimentRecord(owner_id=owner_id, member_ids=members, title=input.title.strip(), parameters=input.parameters)
        async with info.context.database.session() as session:
            over_quota = await _quota_error(session, owner_id)
            if over_quota is not None:
                return over_quota
            session.add(record)
            await session.commit()
        return Experiment.from_record(record)

    @strawberry.mutation(
        description="Move an experiment along its lifecycle; for its owner, its members and admins.",
        permission_classes=[WritesExperiments],
        directives=[RequiresPermission(name=EXPERIMENTS_WRITE)],
    )
    async def transition_experiment(
        self, info: Info[RequestContext, None], input: TransitionExperimentInput
    ) -> TransitionExperimentResult | None:
        experiment_id = try_parse_id(input.id)
        if experiment_id is None:
            return ValidationError(message=f"Invalid id {input.id!r}: expected an experiment's UUID.", field="id")

        async with info.context.database.session() as session:
            # Lock the row so two concurrent transitions cannot both pass validation.
            statement = select(ExperimentRecord).where(ExperimentRecord.id == experiment_id).with_for_update()
            record = (await session.execute(statement)).scalar_one_or_none()
            if record is None:
                return NotFoundError(message=f"Experiment {input.id} not found.", id=input.id)
            principal = await current_principal(info)
            if not (principal.has(ADMIN) or _takes_part(principal, record)):
                raise forbidden(
                    f"Forbidden: only the owner, members and admins may change experiment {input.id}.", permission=EXPERIMENTS_WRITE
                )
            invalid = _validate_transition(record, input)
            if invalid is not None:
                return invalid

            now = datetime.now(UTC)
            record.status = input.status.value
            record.updated_at = now
            if input.status is ExperimentStatus.RUNNING:
                record.started_at = now
            else:
                record.finished_at = now
                record.result_summary = (input.result_summary or "").strip()
            if input.status is ExperimentStatus.COMPLETED:
                # Same transaction as the status change: billing hears of every completion, and of
                # nothing that rolled back.
                await record_event(
                    session,
                    ExperimentCompletedV1(
                        experiment_id=record.id,
                        owner_id=record.owner_id,
                        title=record.title,
                        started_at=record.started_at,
                        finished_at=now,
                    ),
                )
            await session.commit()
        return Experiment.from_record(record)


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[User, Experiment])
