"""GraphQL schema of the billing module: plans, subscriptions, invoices and the cost of experiments.

Users and experiments belong to other modules. Billing declares them as entity stubs that carry
only their ``id`` and contributes the fields it can compute from its own tables.
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.permission import BasePermission
from strawberry.types import Info

from events.catalog import PlanChangedV1
from events.outbox import record_event
from identity.catalog import ADMIN, BILLING_READ

from subgraphs.billing.loaders import (
    ACTIVE_SUBSCRIPTION_LOADER,
    EXPERIMENT_COST_LOADER,
    ActiveSubscription,
    active_subscription_loader,
    experiment_cost_loader,
)
from subgraphs.billing.models import DEFAULT_CURRENCY, InvoiceLineRecord, InvoiceRecord, PlanRecord, SubscriptionRecord
from subgraphs.kit import (
    Connection,
    IsAuthenticated,
    NotFoundError,
    OwnerOrPermission,
    Principal,
    RequestContext,
    RequiresPermission,
    ValidationError,
    current_principal,
    entity_loader,
    group_loader,
    paginate,
    parse_id,
    try_parse_id,
)

__all__ = ["schema", "Money", "Plan", "PlanSubscription", "Invoice", "InvoiceLine", "User", "Experiment"]

logger = logging.getLogger(__name__)

#: Key in ``RequestContext.loader`` of the loader that groups invoice lines by invoice id.
INVOICE_LINES_LOADER = (InvoiceLineRecord, "invoice_id")


def _plan_loader(info: Info[RequestContext, None]) -> DataLoader[uuid.UUID, PlanRecord | None]:
    return info.context.loader(PlanRecord, lambda db: entity_loader(db, PlanRecord))


def _invoice_loader(info: Info[RequestContext, None]) -> DataLoader[uuid.UUID, InvoiceRecord | None]:
    return info.context.loader(InvoiceRecord, lambda db: entity_loader(db, InvoiceRecord))


def _invoice_lines_loader(info: Info[RequestContext, None]) -> DataLoader[uuid.UUID, list[InvoiceLineRecord]]:
    order = (InvoiceLineRecord.created_at, InvoiceLineRecord.id)
    return info.context.loader(INVOICE_LINES_LOADER, lambda db: group_loader(db, InvoiceLineRecord, "invoice_id", order_by=order))


def _active_subscription_loader(info: Info[RequestContext, None]) -> DataLoader[uuid.UUID, ActiveSubscription | None]:
    return info.context.loader(ACTIVE_SUBSCRIPTION_LOADER, active_subscription_loader)


def _experiment_cost_loader(info: Info[RequestContext, None]) -> DataLoader[uuid.UUID, int]:
    return info.context.loader(EXPERIMENT_COST_LOADER, experiment_cost_loader)


# -- who may see billing data -------------------------------------------------------------------


def can_see_billing_of(principal: Principal, user_id: uuid.UUID) -> bool:
    """Return whether ``principal`` may see the billing data of ``user_id``: their own, or anyone's with billing:read."""
    return principal.subject == user_id or principal.has(BILLING_READ)


class OwnBillingOrBillingRead(OwnerOrPermission):
    """Guards the billing fields of ``User``: the user themself, or a billing:read holder."""

    permission = BILLING_READ

    def owner_of(self, source: object, kwargs: dict[str, object]) -> uuid.UUID | None:
        return source.row_id  # type: ignore[attr-defined]


class CanSeeInvoice(BasePermission):
    """The invoice named by the ``id`` argument belongs to the caller, or they hold billing:read."""

    message = "Forbidden: only the invoice's owner and billing:read holders may read it."
    error_extensions = {"code": "FORBIDDEN", "permission": BILLING_READ}

    async def has_permission(self, source: object, info: Info[RequestContext, None], **kwargs: object) -> bool:
        principal = await current_principal(info)
        record = await _invoice_loader(info).load(parse_id(kwargs["id"]))  # type: ignore[arg-type]
        return record is None or can_see_billing_of(principal, record.user_id)


class ChangesOwnPlan(OwnerOrPermission):
    """Users change their own plan; admins change anyone's."""

    permission = ADMIN

    def owner_of(self, source: object, kwargs: dict[str, object]) -> uuid.UUID | None:
        return try_parse_id(kwargs["input"].user_id)  # type: ignore[attr-defined]


@strawberry.federation.type(shareable=True, description="An amount of money in the minor unit of its currency.")
class Money:
    # NOTE: GraphQL Int is a signed 32-bit integer, so amounts above 2,147,483,647 cents
    # (about 21 million EUR) fail to serialize.
    amount_cents: int = strawberry.field(description="Amount in cents, the minor unit of the currency.")
    currency: str = strawberry.field(description="ISO 4217 currency code, such as EUR.")

    @classmethod
    def from_cents(cls, amount_cents: int, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(amount_cents=amount_cents, currency=currency)


@strawberry.enum(description="State of a plan subscription.")
class SubscriptionStatus(enum.Enum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


@strawberry.enum(description="Payment state of an invoice.")
class InvoiceStatus(enum.Enum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


@strawberry.type(description="A price plan that users subscribe to.")
class Plan:
    id: strawberry.ID
    code: str = strawberry.field(description="Stable identifier of the plan, such as 'team', which `changePlan` takes.")
    name: str
    monthly_price: Money = strawberry.field(description="Fixed fee billed every month.")
    experiment_quota: int = strawberry.field(description="Number of experiments the plan includes.")
    compute_hour_price: Money = strawberry.field(description="Price of one hour of experiment compute.")

    @classmethod
    def from_record(cls, record: PlanRecord) -> Plan:
        return cls(
            id=strawberry.ID(str(record.id)),
            code=record.code,
            name=record.name,
            monthly_price=Money.from_cents(record.monthly_price_cents),
            experiment_quota=record.experiment_quota,
            compute_hour_price=Money.from_cents(record.compute_hour_price_cents),
        )


# The GraphQL type is not named `Subscription`, because Apollo composition (checked with
# @apollo/composition 2.14.4) turns any type of that name into the supergraph's subscription root.
# It does so even when the subgraph's schema definition declares no subscription root.
@strawberry.type(description="A user's subscription to a plan. A user has at most one active subscription.")
class PlanSubscription:
    id: strawberry.ID
    status: SubscriptionStatus
    created_at: datetime
    plan_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Plan subscribed to.")
    async def plan(self, info: Info[RequestContext, None]) -> Plan:
        # The foreign key on subscription.plan_id guarantees that the plan exists.
        record = await _plan_loader(info).load(self.plan_id)
        assert record is not None, f"plan {self.plan_id} of subscription {self.id} is missing"
        return Plan.from_record(record)

    @classmethod
    def from_record(cls, record: SubscriptionRecord) -> PlanSubscription:
        return cls(
            id=strawberry.ID(str(record.id)),
            status=SubscriptionStatus(record.status),
            created_at=record.created_at,
            plan_id=record.plan_id,
        )


# The labs module owns experiments and describes them, so this stub carries no description that
# composition would have to reconcile with the owner's.
@strawberry.federation.type(keys=["id"])
class Experiment:
    id: strawberry.ID
    row_id: strawberry.Private[uuid.UUID]

    # The labs module decides who may read an experiment, and its cost follows the experiment.
    @strawberry.field(description="Sum of all invoice lines charged for this experiment, or zero when none.", permission_classes=[IsAuthenticated])
    async def cost(self, info: Info[RequestContext, None]) -> Money | None:
        # Fields that billing adds to other modules' entities are nullable, so that when billing
        # is down the router nulls only them and keeps the rest of the response.
        # NOTE: the sum adds lines of every invoice, void ones included, and assumes that all of
        # them are in DEFAULT_CURRENCY.
        cents = await _experiment_cost_loader(info).load(self.row_id)
        return Money.from_cents(cents)

    @classmethod
    def from_id(cls, experiment_id: uuid.UUID) -> Experiment:
        return cls(id=strawberry.ID(str(experiment_id)), row_id=experiment_id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Experiment | None:
        # The labs module owns experiments, so billing trusts the router's representation and
        # builds the stub without a query. An id that is not a UUID cannot match any row.
        parsed = try_parse_id(id)
        return cls.from_id(parsed) if parsed is not None else None


@strawberry.type(description="One charge on an invoice.")
class InvoiceLine:
    id: strawberry.ID
    description: str
    amount: Money
    experiment: Experiment | None = strawberry.field(description="Experiment whose compute this line charges, or null for a plan fee.")

    @classmethod
    def from_record(cls, record: InvoiceLineRecord, currency: str) -> InvoiceLine:
        experiment = Experiment.from_id(record.experiment_id) if record.experiment_id is not None else None
        return cls(
            id=strawberry.ID(str(record.id)),
            description=record.description,
            amount=Money.from_cents(record.amount_cents, currency),
            experiment=experiment,
        )


@strawberry.federation.type(keys=["id"], description="A monthly bill of one user.")
class Invoice:
    id: strawberry.ID
    number: str = strawberry.field(description="Human-readable invoice number, unique across all invoices.")
    period_start: datetime = strawberry.field(description="Start of the billed month.")
    status: InvoiceStatus
    created_at: datetime
    row_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    currency: strawberry.Private[str]

    @strawberry.field(description="User the invoice is addressed to.")
    def user(self) -> User:
        return User.from_id(self.user_id)

    @strawberry.field(description="Charges on the invoice, oldest first.")
    async def lines(self, info: Info[RequestContext, None]) -> list[InvoiceLine]:
        records = await _invoice_lines_loader(info).load(self.row_id)
        return [InvoiceLine.from_record(record, self.currency) for record in records]

    @strawberry.field(description="Sum of all lines.")
    async def total(self, info: Info[RequestContext, None]) -> Money:
        # Shares the loader of `lines`, so a query asking for both still reads the lines once.
        records = await _invoice_lines_loader(info).load(self.row_id)
        return Money.from_cents(sum(record.amount_cents for record in records), self.currency)

    @classmethod
    def from_record(cls, record: InvoiceRecord) -> Invoice:
        return cls(
            id=strawberry.ID(str(record.id)),
            number=record.number,
            period_start=record.period_start,
            status=InvoiceStatus(record.status),
            created_at=record.created_at,
            row_id=record.id,
            user_id=record.user_id,
            currency=record.currency,
        )

    @classmethod
    async def resolve_reference(cls, info: Info[RequestContext, None], id: strawberry.ID) -> Invoice | None:
        principal = await current_principal(info)
        # Every representation goes through the request's loader, so N invoices cost one query.
        parsed = try_parse_id(id)
        if parsed is None:
            return None
        record = await _invoice_loader(info).load(parsed)
        return cls.from_record(record) if record is not None and can_see_billing_of(principal, record.user_id) else None


# The users module owns users and describes them, so this stub carries no description of its own.
@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    row_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Plan of the user's active subscription, or null when the user has none.", permission_classes=[OwnBillingOrBillingRead],
        directives=[RequiresPermission(name=BILLING_READ)],
    )
    async def plan(self, info: Info[RequestContext, None]) -> Plan | None:
        active = await _active_subscription_loader(info).load(self.row_id)
        return Plan.from_record(active.plan) if active is not None else None

    @strawberry.field(description="The user's active subscription, or null when the user has none.", permission_classes=[OwnBillingOrBillingRead],
        directives=[RequiresPermission(name=BILLING_READ)],
    )
    async def subscription(self, info: Info[RequestContext, None]) -> PlanSubscription | None:
        active = await _active_subscription_loader(info).load(self.row_id)
        if active is None:
            return None
        # The join already read the plan, so `subscription { plan }` needs no second query.
        _plan_loader(info).prime(active.plan.id, active.plan)
        return PlanSubscription.from_record(active.subscription)

    @strawberry.field(description="The user's invoices, newest first.", permission_classes=[OwnBillingOrBillingRead],
        directives=[RequiresPermission(name=BILLING_READ)],
    )
    async def invoices(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Invoice] | None:
        statement = select(InvoiceRecord).where(InvoiceRecord.user_id == self.row_id)
        return await paginate(info.context.database, statement, InvoiceRecord, first=first, after=after, to_node=Invoice.from_record)

    @classmethod
    def from_id(cls, user_id: uuid.UUID) -> User:
        return cls(id=strawberry.ID(str(user_id)), row_id=user_id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User | None:
        # The users module owns users, so billing trusts the router's representation and builds
        # the stub without a query. An id that is not a UUID cannot match any row.
        parsed = try_parse_id(id)
        return cls.from_id(parsed) if parsed is not None else None


@strawberry.input(description="A request to move a user to another plan.")
class ChangePlanInput:
    user_id: strawberry.ID
    plan_code: str = strawberry.field(description="Code of the new plan, as listed by `plans`.")


# NotFoundError is part of the result contract, but no path returns it yet. Users live in the
# users module, so billing cannot tell an unknown user from one without a subscription.
ChangePlanResult = Annotated[PlanSubscription | ValidationError | NotFoundError, strawberry.union("ChangePlanResult")]


def _validate_change_plan(data: ChangePlanInput) -> ValidationError | None:
    """Return the first input error that needs no database, or None."""
    if try_parse_id(data.user_id) is None:
        return ValidationError(
            message=f"Invalid userId {data.user_id!r}: expected a UUID such as 'a3bb189e-8bf9-3888-9912-ace4e6543002'.",
            field="userId",
        )
    if not data.plan_code.strip():
        return ValidationError(
            message=f"Invalid planCode {data.plan_code!r}: pass the code of a plan listed by the `plans` query.", field="planCode"
        )
    return None


async def _unknown_plan_error(session: AsyncSession, plan_code: str) -> ValidationError:
    """Build the error for an unknown plan code, listing the codes that exist."""
    statement = select(PlanRecord.code).order_by(PlanRecord.monthly_price_cents, PlanRecord.code)
    codes = (await session.execute(statement)).scalars().all()
    if not codes:
        return ValidationError(
            message=f"Unknown planCode {plan_code!r}: no plans exist yet, so load them first, for example with `labs64 seed`.",
            field="planCode",
        )
    valid = ", ".join(repr(code) for code in codes)
    return ValidationError(message=f"Unknown planCode {plan_code!r}: use one of {valid}.", field="planCode")


@strawberry.type
class Query:
    @strawberry.field(description="One invoice by id, or null when none has it.", permission_classes=[IsAuthenticated, CanSeeInvoice],
        directives=[RequiresPermission(name=BILLING_READ)],
    )
    async def invoice(self, info: Info[RequestContext, None], id: strawberry.ID) -> Invoice | None:
        record = await _invoice_loader(info).load(parse_id(id))
        return Invoice.from_record(record) if record is not None else None

    # The price list is public, as on a pricing page: anonymous clients may read it, and the edge
    # serves it from its shared cache.
    @strawberry.field(description="Every plan, cheapest first.")
    async def plans(self, info: Info[RequestContext, None]) -> list[Plan]:
        statement = select(PlanRecord).order_by(PlanRecord.monthly_price_cents, PlanRecord.code)
        async with info.context.database.session() as session:
            records = (await session.execute(statement)).scalars().all()
        return [Plan.from_record(record) for record in records]

    @strawberry.field(description="One plan by code, or null when none has it.")
    async def plan(self, info: Info[RequestContext, None], code: str) -> Plan | None:
        async with info.context.database.session() as session:
            record = (await session.execute(select(PlanRecord).where(PlanRecord.code == code))).scalar_one_or_none()
        return Plan.from_record(record) if record is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Move a user to another plan: cancel the active subscription and start a new one in one transaction. "
        "A user without a subscription gets one. Users change their own plan; admins anyone's.",
        permission_classes=[ChangesOwnPlan],
        directives=[RequiresPermission(name=ADMIN)],
    )
    async def change_plan(self, info: Info[RequestContext, None], input: ChangePlanInput) -> ChangePlanResult | None:
        invalid = _validate_change_plan(input)
        if invalid is not None:
            return invalid

        user_id = uuid.UUID(input.user_id)
        plan_code = input.plan_code.strip()
        async with info.context.database.session() as session:
            plan = (await session.execute(select(PlanRecord).where(PlanRecord.code == plan_code))).scalar_one_or_none()
            if plan is None:
                return await _unknown_plan_error(session, plan_code)

            # FOR UPDATE makes a concurrent change for the same user wait until this one commits.
            current_statement = (
                select(SubscriptionRecord)
                .where(SubscriptionRecord.user_id == user_id, SubscriptionRecord.status == "active")
                .with_for_update()
            )
            current = (await session.execute(current_statement)).scalar_one_or_none()
            if current is not None and current.plan_id == plan.id:
                return ValidationError(
                    message=f"User {user_id} is already on plan {plan_code!r}: pass a different planCode.",
                    field="planCode",
                    code="PLAN_UNCHANGED",
                )

            if current is not None:
                current.status = "cancelled"
                # PostgreSQL checks the partial unique index as each row is written, so the
                # cancellation must reach the database before the new active row does.
                await session.flush()
            replacement = SubscriptionRecord(user_id=user_id, plan_id=plan.id, status="active")
            session.add(replacement)
            await record_event(
                session,
                PlanChangedV1(
                    user_id=user_id,
                    subscription_id=replacement.id,
                    plan_code=plan.code,
                    experiment_quota=plan.experiment_quota,
                    changed_at=replacement.created_at,
                ),
            )
            try:
                await session.commit()
            except IntegrityError as error:
                # Two concurrent changes can both find no active row to lock: the user had none, or
                # the row one of them waited for was cancelled meanwhile. The later insert then
                # fails on the partial unique index.
                await session.rollback()
                logger.warning("plan change conflicted with a concurrent change", extra={"user_id": str(user_id), "error": str(error)})
                return ValidationError(
                    message=f"The plan of user {user_id} was changed concurrently: read the current subscription, then retry.",
                    field="userId",
                    code="CONCURRENT_CHANGE",
                )

        logger.info(
            "plan changed",
            extra={"user_id": str(user_id), "plan_code": plan_code, "previous_plan_id": str(current.plan_id) if current else None},
        )
        _plan_loader(info).prime(plan.id, plan)
        return PlanSubscription.from_record(replacement)


# Strawberry silently drops types that no root field reaches, so the entities are listed to keep
# them in the schema even if a later change removes the last field that leads to them.
schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[User, Experiment, Invoice])
