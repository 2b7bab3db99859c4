"""Billing DataLoaders issue one statement per batch, checked against a fake session.

The fake session records each statement and returns preset rows. The statements are compiled
with the PostgreSQL dialect, so the tests also catch SQL that PostgreSQL would reject at compile
time, but not at run time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import postgresql

from subgraphs.billing.loaders import ActiveSubscription, active_subscription_loader, experiment_cost_loader
from subgraphs.billing.models import PlanRecord, SubscriptionRecord


@dataclass
class _Result:
    rows: list[Any]

    def all(self) -> list[Any]:
        return self.rows


@dataclass
class _RecordingSession:
    rows: list[Any]
    statements: list[str] = field(default_factory=list)

    async def execute(self, statement: Any) -> _Result:
        compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        self.statements.append(" ".join(str(compiled).split()))
        return _Result(self.rows)


@dataclass
class _RecordingDatabase:
    rows: list[Any]
    sessions: list[_RecordingSession] = field(default_factory=list)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[_RecordingSession]:
        session = _RecordingSession(self.rows)
        self.sessions.append(session)
        yield session

    @property
    def statements(self) -> list[str]:
        return [statement for session in self.sessions for statement in session.statements]


async def test_experiment_cost_one_group_by() -> None:
    charged, uncharged, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    database = _RecordingDatabase(rows=[(charged, 1_500), (other, 20)])
    loader = experiment_cost_loader(database)  # type: ignore[arg-type]

    costs = await loader.load_many([charged, uncharged, other])

    assert costs == [1_500, 0, 20]
    assert len(database.statements) == 1
    statement = database.statements[0]
    assert "sum(invoice_line.amount_cents)" in statement
    assert statement.endswith("GROUP BY invoice_line.experiment_id")
    for experiment_id in (charged, uncharged, other):
        assert str(experiment_id) in statement


async def test_active_subscription_one_join() -> None:
    plan = PlanRecord(code="team", name="Team", monthly_price_cents=4_900, experiment_quota=200, compute_hour_price_cents=120)
    subscribed, unsubscribed = uuid.uuid4(), uuid.uuid4()
    subscription = SubscriptionRecord(user_id=subscribed, plan_id=plan.id, status="active")
    database = _RecordingDatabase(rows=[(subscription, plan)])
    loader = active_subscription_loader(database)  # type: ignore[arg-type]

    results = await loader.load_many([subscribed, unsubscribed])

    assert results == [ActiveSubscription(subscription, plan), None]
    assert len(database.statements) == 1
    statement = database.statements[0]
    assert "JOIN plan ON plan.id = subscription.plan_id" in statement
    assert "subscription.status = 'active'" in statement
