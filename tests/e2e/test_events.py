"""End to end through the Apollo Router: a labs mutation, and billing's reaction in a query."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from labs64.dataset import seed_id
from tests.events.polling import eventually

pytestmark = pytest.mark.platform


async def _graphql(client: httpx.AsyncClient, query: str, **variables: object) -> dict:
    response = await client.post("/", json={"query": query, "variables": variables})
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_completion_billed_through_router(router_client: httpx.AsyncClient) -> None:
    created = await _graphql(
        router_client,
        "mutation($input: CreateUserInput!) { createUser(input: $input) { ... on User { id } } }",
        input={"email": f"router-events-{uuid.uuid4().hex[:8]}@example.com", "displayName": "Router Events", "organisationId": str(seed_id("organisation", 2))},
    )
    user = created["createUser"]["id"]
    await _graphql(
        router_client,
        "mutation($input: ChangePlanInput!) { changePlan(input: $input) { __typename } }",
        input={"userId": user, "planCode": "team"},
    )
    experiment = (
        await _graphql(
            router_client,
            "mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { ... on Experiment { id } } }",
            input={"ownerId": user, "title": "Billed through the router"},
        )
    )["createExperiment"]["id"]
    transition = "mutation($input: TransitionExperimentInput!) { transitionExperiment(input: $input) { ... on Experiment { status } } }"
    await _graphql(router_client, transition, input={"id": experiment, "status": "RUNNING"})
    completed = await _graphql(router_client, transition, input={"id": experiment, "status": "COMPLETED", "resultSummary": "Fine."})
    assert completed["transitionExperiment"] == {"status": "COMPLETED"}

    # labs owns the experiment and billing contributes its cost: the charge appears in the
    # same query once billing has consumed the completion event.
    query = "query($id: ID!) { experiment(id: $id) { status cost { amountCents currency } } }"

    async def cost() -> dict:
        return (await _graphql(router_client, query, id=experiment))["experiment"]

    result = await eventually(cost, lambda e: e["cost"]["amountCents"] > 0, timeout_s=60, what="experiment cost through the router")
    assert result["status"] == "COMPLETED"
    assert result["cost"]["currency"] == "EUR"


async def _new_user_on_plan(client: httpx.AsyncClient, plan_code: str) -> str:
    created = await _graphql(
        client,
        "mutation($input: CreateUserInput!) { createUser(input: $input) { ... on User { id } } }",
        input={"email": f"router-flow-{uuid.uuid4().hex[:8]}@example.com", "displayName": "Router Flow", "organisationId": str(seed_id("organisation", 3))},
    )
    user = created["createUser"]["id"]
    changed = await _graphql(
        client, "mutation($input: ChangePlanInput!) { changePlan(input: $input) { __typename } }", input={"userId": user, "planCode": plan_code}
    )
    assert changed["changePlan"]["__typename"] == "PlanSubscription"
    return user


CREATE_EXPERIMENT = """
mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) { __typename ... on Experiment { id } ... on ValidationError { code message } }
}"""


async def test_deleted_user_archived_through_router(router_client: httpx.AsyncClient) -> None:
    user = await _new_user_on_plan(router_client, "team")
    experiments = []
    for title in ("Archive me", "Archive me too"):
        created = await _graphql(router_client, CREATE_EXPERIMENT, input={"ownerId": user, "title": title})
        experiments.append(created["createExperiment"]["id"])

    deleted = await _graphql(router_client, "mutation($id: ID!) { deleteUser(id: $id) { __typename } }", id=user)
    assert deleted["deleteUser"] == {"__typename": "DeletedUser"}

    # users deleted the profile; labs archives the experiments once it has consumed the event.
    query = "query($id: ID!) { experiment(id: $id) { status } }"

    async def statuses() -> list[str]:
        return [(await _graphql(router_client, query, id=experiment))["experiment"]["status"] for experiment in experiments]

    await eventually(statuses, lambda found: found == ["ARCHIVED", "ARCHIVED"], timeout_s=60, what="experiments archived through the router")


async def test_plan_quota_enforced_through_router(router_client: httpx.AsyncClient) -> None:
    user = await _new_user_on_plan(router_client, "free")

    # The quota reaches labs through an event, so creation is retried until labs rejects it.
    created = 0
    rejection: dict = {}
    for attempt in range(40):
        result = (await _graphql(router_client, CREATE_EXPERIMENT, input={"ownerId": user, "title": f"Quota probe {attempt}"}))["createExperiment"]
        if result["__typename"] == "ValidationError":
            rejection = result
            break
        created += 1
        await asyncio.sleep(0.1)

    assert rejection, "labs never enforced the free plan's quota"
    assert rejection["code"] == "QUOTA_EXCEEDED"
    assert "plan 'free' allows 10" in rejection["message"]
    assert created >= 10
