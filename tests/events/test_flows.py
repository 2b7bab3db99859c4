"""The cross-module flows: each mutation in one module and its effect in another."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from subgraphs.kit import Database
from tests.events.graphql import Caller, call, change_plan, create_experiment, create_user, transition
from tests.events.polling import eventually


async def _scalar(database: Database, sql: str, **parameters: object) -> object:
    async with database.session() as session:
        return (await session.execute(text(sql), parameters)).scalar_one_or_none()


async def test_completed_experiment_charged_on_open_invoice(caller: Caller, billing_database: Database) -> None:
    owner = await create_user(caller)
    assert (await change_plan(caller, owner, "team"))["__typename"] == "PlanSubscription"
    experiment = (await create_experiment(caller, owner, "Charged run"))["id"]
    assert (await transition(caller, experiment, "RUNNING"))["status"] == "RUNNING"
    assert (await transition(caller, experiment, "COMPLETED"))["status"] == "COMPLETED"

    charge_sql = (
        "SELECT count(*) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id "
        "WHERE l.experiment_id = :experiment AND i.user_id = :owner AND i.status = 'open' AND l.amount_cents > 0"
    )
    await eventually(
        lambda: _scalar(billing_database, charge_sql, experiment=uuid.UUID(experiment), owner=uuid.UUID(owner)),
        lambda count: count == 1,
        what="usage line on the owner's open invoice",
    )


async def test_deleted_user_archived_and_cancelled(caller: Caller, labs_database: Database, billing_database: Database) -> None:
    user = await create_user(caller)
    assert (await change_plan(caller, user, "team"))["__typename"] == "PlanSubscription"
    for title in ("Draft to archive", "Another draft"):
        assert (await create_experiment(caller, user, title))["__typename"] == "Experiment"
    colleague = await create_user(caller)
    shared = await create_experiment(caller, colleague, "Shared with the deleted user", member_ids=[user])
    assert shared["__typename"] == "Experiment"

    deleted = await call(caller, "users", "mutation($id: ID!) { deleteUser(id: $id) { __typename ... on DeletedUser { id } } }", id=user)
    assert deleted["deleteUser"] == {"__typename": "DeletedUser", "id": user}

    user_id = uuid.UUID(user)
    await eventually(
        lambda: _scalar(labs_database, "SELECT count(*) FROM experiment WHERE owner_id = :user AND status <> 'archived'", user=user_id),
        lambda count: count == 0,
        what="experiments archived",
    )
    assert await _scalar(labs_database, "SELECT count(*) FROM experiment WHERE owner_id = :user AND status = 'archived'", user=user_id) == 2
    # The colleague's experiment stays active and no longer lists the deleted user as a member.
    await eventually(
        lambda: _scalar(labs_database, "SELECT count(*) FROM experiment WHERE :user = ANY(member_ids)", user=user_id),
        lambda count: count == 0,
        what="membership removed",
    )
    shared_id = uuid.UUID(shared["id"])
    assert await _scalar(labs_database, "SELECT status FROM experiment WHERE id = :id", id=shared_id) == "draft"
    await eventually(
        lambda: _scalar(billing_database, "SELECT count(*) FROM subscription WHERE user_id = :user AND status = 'active'", user=user_id),
        lambda count: count == 0,
        what="subscription cancelled",
    )


async def test_delete_unknown_user_not_found(caller: Caller) -> None:
    missing = str(uuid.uuid4())
    result = await call(
        caller, "users", "mutation($id: ID!) { deleteUser(id: $id) { __typename ... on NotFoundError { message } } }", id=missing
    )

    assert result["deleteUser"] == {"__typename": "NotFoundError", "message": f"User {missing} not found."}


async def test_plan_quota_enforced_on_creation(caller: Caller, labs_database: Database) -> None:
    user = await create_user(caller)
    assert (await change_plan(caller, user, "free"))["__typename"] == "PlanSubscription"
    await eventually(
        lambda: _scalar(labs_database, "SELECT max_experiments FROM experiment_quota WHERE user_id = :user", user=uuid.UUID(user)),
        lambda quota: quota == 10,
        what="free plan quota reached labs",
    )

    for number in range(10):
        assert (await create_experiment(caller, user, f"Within quota {number}"))["__typename"] == "Experiment"
    rejected = await create_experiment(caller, user, "One too many")

    assert rejected["__typename"] == "ValidationError"
    assert rejected["code"] == "QUOTA_EXCEEDED"
    assert rejected["field"] == "ownerId"
    assert "plan 'free' allows 10" in rejected["message"]

    # A larger plan lifts the limit once its event arrives.
    assert (await change_plan(caller, user, "team"))["__typename"] == "PlanSubscription"
    await eventually(
        lambda: _scalar(labs_database, "SELECT max_experiments FROM experiment_quota WHERE user_id = :user", user=uuid.UUID(user)),
        lambda quota: quota == 200,
        what="team plan quota reached labs",
    )
    assert (await create_experiment(caller, user, "After upgrade"))["__typename"] == "Experiment"
