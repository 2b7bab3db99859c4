"""Tables of the billing module, in its own SQLAlchemy registry so its migrations see only them.

``user_id`` and ``experiment_id`` are plain indexed UUID columns without foreign keys, because
users and experiments live in the databases of other modules.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "BillingModel",
    "PlanRecord",
    "SubscriptionRecord",
    "InvoiceRecord",
    "InvoiceLineRecord",
    "SUBSCRIPTION_STATUSES",
    "INVOICE_STATUSES",
    "DEFAULT_CURRENCY",
]

SUBSCRIPTION_STATUSES = ("active", "cancelled")
INVOICE_STATUSES = ("open", "paid", "void")

#: ISO 4217 code of plan prices and the default of new invoices, because plans have no currency column.
DEFAULT_CURRENCY = "EUR"


def _now() -> datetime:
    return datetime.now(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class BillingModel(SQLModel, registry=registry()):
    pass


class PlanRecord(BillingModel, table=True):
    __tablename__ = "plan"
    # ``paginate`` orders by (created_at, id), so every table gets that index.
    __table_args__ = (Index("ix_plan_created_at", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=50, unique=True)
    name: str = Field(max_length=100)
    monthly_price_cents: int
    experiment_quota: int
    compute_hour_price_cents: int
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class SubscriptionRecord(BillingModel, table=True):
    __tablename__ = "subscription"
    __table_args__ = (
        Index("ix_subscription_created_at", "created_at", "id"),
        # A user may keep any number of cancelled subscriptions but only one active one.
        Index("uq_subscription_active_user", "user_id", unique=True, postgresql_where=text("status = 'active'")),
        CheckConstraint(_one_of("status", SUBSCRIPTION_STATUSES), name="ck_subscription_status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(index=True)
    plan_id: uuid.UUID = Field(foreign_key="plan.id")
    status: str = Field(default="active", max_length=20)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class InvoiceRecord(BillingModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_created_at", "created_at", "id"),
        CheckConstraint(_one_of("status", INVOICE_STATUSES), name="ck_invoice_status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(index=True)
    number: str = Field(max_length=50, unique=True)
    period_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="open", max_length=20)
    currency: str = Field(default=DEFAULT_CURRENCY, max_length=3)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class InvoiceLineRecord(BillingModel, table=True):
    __tablename__ = "invoice_line"
    __table_args__ = (Index("ix_invoice_line_created_at", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoice.id", index=True)
    description: str = Field(max_length=200)
    amount_cents: int
    experiment_id: uuid.UUID | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))
