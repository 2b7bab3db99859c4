"""GraphQL calls to one subgraph over HTTP, as another service or the router would send them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from labs64.dataset import seed_id
from labs64.settings import PlatformSettings


@dataclass(frozen=True)
class Caller:
    """The platform to call and the access token to call it with."""

    settings: PlatformSettings
    token: str


async def call(caller: Caller, subgraph: str, query: str, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {caller.token}"}
    async with httpx.AsyncClient(timeout=30, trust_env=False, headers=headers) as client:
        response = await client.post(caller.settings.subgraph_url(subgraph), json={"query": query, "variables": variables})
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def create_user(caller: Caller) -> str:
    mutation = "mutation($input: CreateUserInput!) { createUser(input: $input) { ... on User { id } ... on ValidationError { message } } }"
    data = await call(
        caller,
        "users",
        mutation,
        input={"email": f"events-{uuid.uuid4().hex[:10]}@example.com", "displayName": "Event Probe", "organisationId": str(seed_id("organisation", 1))},
    )
    return data["createUser"]["id"]


async def change_plan(caller: Caller, user_id: str, plan_code: str) -> dict[str, Any]:
    mutation = """
    mutation($input: ChangePlanInput!) {
      changePlan(input: $input) { __typename ... on ValidationError { message code } }
    }"""
    return (await call(caller, "billing", mutation, input={"userId": user_id, "planCode": plan_code}))["changePlan"]


async def create_experiment(caller: Caller, owner_id: str, title: str, member_ids: list[str] | None = None) -> dict[str, Any]:
    mutation = """
    mutation($input: CreateExperimentInput!) {
      createExperiment(input: $input) { __typename ... on Experiment { id } ... on ValidationError { message code field } }
    }"""
    return (await call(caller, "labs", mutation, input={"ownerId": owner_id, "title": title, "memberIds": member_ids or []}))["createExperiment"]


async def transition(caller: Caller, experiment_id: str, status: str) -> dict[str, Any]:
    mutation = """
    mutation($input: TransitionExperimentInput!) {
      transitionExperiment(input: $input) { __typename ... on Experiment { status } ... on ValidationError { message } }
    }"""
    summary = "Done." if status in ("COMPLETED", "FAILED") else None
    return (await call(caller, "labs", mutation, input={"id": experiment_id, "status": status, "resultSummary": summary}))["transitionExperiment"]
