"""The changePlan mutation's database paths, against a fake session with preset rows.

The fake returns preset rows for the three statements changePlan issues (plan by code, all plan codes, the
user's active subscription) and records flush, add, the outbox event, commit and rollback in order. PostgreSQL's
constraints and row locks are out of its reach and need tests against a real database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Insert, TextClause
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from subgraphs.billing.models import PlanRecord, SubscriptionRecord
from subgraphs.billing.schema import schema
from subgraphs.kit import RequestContext
from tests.identity.principals import ADMIN_PRINCIPAL

FREE = PlanRecord(code="free", name="Free", monthly_price_cents=0, experiment_quota=10, compute_hour_price_cents=0)
TEAM = PlanRecord(code="team", name="Team", monthly_price_cents=4_900, experiment_quota=200, compute_hour_price_cents=120)
PLANS = [FREE, TEAM]
PLAN_CHANGED = "io.labs64.billing.subscription.plan_changed.v1"

CHANGE_PLAN = """
mutation ($input: ChangePlanInput!) {
  changePlan(input: $input) {
    __typename
    ... on PlanSubscription { id status plan { code monthlyPrice { amountCents currency } } }
    ... on ValidationError { message field code }
  }
}
"""


class _Scalars:
    def __init__(self, values: list[Any]) -> None:
        self.values = values

    def all(self) -> list[Any]:
        return self.values


class _Result:
    def __init__(self, values: list[Any]) -> None:
        self.values = values

    def scalar_one_or_none(self) -> Any:
        assert len(self.values) <= 1, f"expected at most one row, got {len(self.values)}"
        return self.values[0] if self.values else None

    def scalars(self) -> _Scalars:
        return _Scalars(self.values)


@dataclass
class _FakeSession:
    active: SubscriptionRecord | None
    fail_commit: bool = False
    events: list[str] = field(default_factory=list)
    added: list[Any] = field(default_factory=list)
    locked: bool = False

    async def execute(self, statement: Any) -> _Result:
        # The outbox insert carries a JSONB envelope, which has no literal rendering; record the
        # event type instead, and the NOTIFY that wakes the relay.
        if isinstance(statement, Insert) and statement.table.name == "event_outbox":
            self.events.append(f"outbox({statement.compile().params['event_type']})")
            return _Result([])
        if isinstance(statement, TextClause):
            self.events.append(statement.text)
            return _Result([])
        sql = " ".join(str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})).split())
        if sql.startswith("SELECT plan.code FROM plan"):
            return _Result([plan.code for plan in PLANS])
        if "FROM plan WHERE plan.code = " in sql:
            code = sql.rsplit("plan.code = ", 1)[1].strip("'")
            return _Result([plan for plan in PLANS if plan.code == code])
        if "FROM subscription" in sql:
            self.locked = sql.endswith("FOR UPDATE")
            return _Result([self.active] if self.active is not None else [])
        raise AssertionError(f"unexpected statement: {sql}")

    async def flush(self) -> None:
        status = self.active.status if self.active is not None else None
        self.events.append(f"flush(current={status})")

    def add(self, record: Any) -> None:
        self.events.append("add")
        self.added.append(record)

    async def commit(self) -> None:
        self.events.append("commit")
        if self.fail_commit:
            raise IntegrityError("INSERT INTO subscription ...", {}, Exception("uq_subscription_active_user"))

    async def rollback(self) -> None:
        self.events.append("rollback")


@dataclass
class _FakeDatabase:
    session_object: _FakeSession

    @asynccontextmanager
    async def session(self) -> AsyncIterator[_FakeSession]:
        yield self.session_object


async def _change_plan(session: _FakeSession, user_id: uuid.UUID, plan_code: str) -> dict[str, Any]:
    context = RequestContext(database=_FakeDatabase(session), principal=ADMIN_PRINCIPAL)  # type: ignore[arg-type]
    variables = {"input": {"userId": str(user_id), "planCode": plan_code}}
    result = await schema.execute(CHANGE_PLAN, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data["changePlan"]


async def test_change_plan_unknown_code_lists_codes() -> None:
    session = _FakeSession(active=None)

    payload = await _change_plan(session, uuid.uuid4(), "gold")

    assert payload["__typename"] == "ValidationError"
    assert payload["field"] == "planCode"
    assert "'gold'" in payload["message"]
    assert "'free', 'team'" in payload["message"]
    assert session.events == []


async def test_change_plan_same_plan_unchanged() -> None:
    user_id = uuid.uuid4()
    current = SubscriptionRecord(user_id=user_id, plan_id=TEAM.id, status="active")
    session = _FakeSession(active=current)

    payload = await _change_plan(session, user_id, "team")

    assert payload["__typename"] == "ValidationError"
    assert payload["code"] == "PLAN_UNCHANGED"
    assert payload["field"] == "planCode"
    assert current.status == "active"
    assert session.events == []


async def test_change_plan_replaces_active_subscription() -> None:
    user_id = uuid.uuid4()
    current = SubscriptionRecord(user_id=user_id, plan_id=FREE.id, status="active")
    session = _FakeSession(active=current)

    payload = await _change_plan(session, user_id, "team")

    assert payload["__typename"] == "PlanSubscription"
    assert payload["status"] == "ACTIVE"
    assert payload["plan"] == {"code": "team", "monthlyPrice": {"amountCents": 4_900, "currency": "EUR"}}
    assert current.status == "cancelled"
    # The cancellation is flushed before the new row is added, and both commit together.
    assert session.events == ["flush(current=cancelled)", "add", f"outbox({PLAN_CHANGED})", "NOTIFY labs64_outbox", "commit"]
    assert session.locked
    (replacement,) = session.added
    assert replacement.user_id == user_id
    assert replacement.plan_id == TEAM.id
    assert replacement.status == "active"
    assert payload["id"] == str(replacement.id)


async def test_change_plan_subscribes_new_user() -> None:
    user_id = uuid.uuid4()
    session = _FakeSession(active=None)

    payload = await _change_plan(session, user_id, "free")

    assert payload["__typename"] == "PlanSubscription"
    assert payload["plan"]["code"] == "free"
    assert session.events == ["add", f"outbox({PLAN_CHANGED})", "NOTIFY labs64_outbox", "commit"]


async def test_change_plan_strips_plan_code() -> None:
    session = _FakeSession(active=None)

    payload = await _change_plan(session, uuid.uuid4(), "  team ")

    assert payload["__typename"] == "PlanSubscription"
    assert payload["plan"]["code"] == "team"


async def test_change_plan_concurrent_conflict() -> None:
    session = _FakeSession(active=None, fail_commit=True)

    payload = await _change_plan(session, uuid.uuid4(), "team")

    assert payload["__typename"] == "ValidationError"
    assert payload["code"] == "CONCURRENT_CHANGE"
    assert session.events == ["add", f"outbox({PLAN_CHANGED})", "NOTIFY labs64_outbox", "commit", "rollback"]
