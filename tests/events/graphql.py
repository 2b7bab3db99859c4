"""GraphQL calls to one subgraph over HTTP, as another service or the router would send them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from labs64.dataset import seed_id
from labs64.settings import PlatformSettings


async def call(settings: PlatformSettings, subgraph: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        response = await client.post(settings.subgraph_url(subgraph), json={"query": query, "variables": variables})
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def create_user(settings: PlatformSettings) -> str:
    mutation = "mutation($input: CreateUserInput!) { createUser(input: $input) { ... on User { id } ... on ValidationError { message } } }"
    data = await call(
        settings,
        "users",
        mutation,
        input={"email": f"events-{uuid.uuid4().hex[:10]}@example.com", "displayName": "Event Probe", "organisationId": str(seed_id("organisation", 1))},
    )
    return data["createUser"]["id"]


async def change_plan(settings: PlatformSettings, user_id: str, plan_code: str) -> dict[str, Any]:
    mutation = """
    mutation($input: ChangePlanInput!) {
      changePlan(input: $input) { __typename ... on ValidationError { message code } }
    }"""
    return (await call(settings, "billing", mutation, input={"userId": user_id, "planCode": plan_code}))["changePlan"]


async def create_experiment(settings: PlatformSettings, owner_id: str, title: str) -> dict[str, Any]:
    mutation = """
    mutation($input: CreateExperimentInput!) {
      createExperiment(input: $input) { __typename ... on Experiment { id } ... on ValidationError { message code field } }
    }"""
    return (await call(settings, "labs", mutation, input={"ownerId": owner_id, "title": title}))["createExperiment"]


async def transition(settings: PlatformSettings, experiment_id: str, status: str) -> dict[str, Any]:
    mutation = """
    mutation($input: TransitionExperimentInput!) {
      transitionExperiment(input: $input) { __typename ... on Experiment { status } ... on ValidationError { message } }
    }"""
    summary = "Done." if status in ("COMPLETED", "FAILED") else None
    return (await call(settings, "labs", mutation, input={"id": experiment_id, "status": status, "resultSummary": summary}))["transitionExperiment"]
