"""End to end through the Apollo Router: a labs mutation, and billing's reaction in a query."""

from __future__ import annotations

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
