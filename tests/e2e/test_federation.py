"""End-to-end queries through the Apollo Router across all three modules."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from labs64.dataset import build_dataset, seed_id
from labs64.health import checks_for, wait_healthy
from labs64.platform import Platform

pytestmark = pytest.mark.platform

CROSS_MODULE = """
query UserOverview($id: ID!) {
  user(id: $id) {
    email
    organisation { name }
    plan { code experimentQuota }
    invoices(first: 3) { totalCount edges { node { number status total { amountCents currency } } } }
    experiments(first: 50, status: COMPLETED) {
      edges { node { title status owner { displayName } cost { amountCents } } }
    }
  }
}
"""


async def _post(client: httpx.AsyncClient, query: str, **variables: object) -> httpx.Response:
    return await client.post("/", json={"query": query, "variables": variables})


async def test_query_spans_three_modules(router_client: httpx.AsyncClient) -> None:
    dataset = build_dataset()
    user = dataset.users[11]

    response = await _post(router_client, CROSS_MODULE, id=str(user.id))
    body = response.json()

    assert response.status_code == 200
    assert "errors" not in body, body.get("errors")
    data = body["data"]["user"]
    assert data["email"] == user.email
    assert data["plan"]["code"] in {"free", "team", "enterprise"}
    assert data["invoices"]["totalCount"] == 20
    assert data["invoices"]["edges"][0]["node"]["total"]["currency"] == "EUR"
    experiments = [edge["node"] for edge in data["experiments"]["edges"]]
    assert experiments, "the seeded user owns completed experiments"
    assert all(e["owner"]["displayName"] for e in experiments)
    assert any(e["cost"]["amountCents"] > 0 for e in experiments) or data["plan"]["code"] == "free"


async def test_pagination_through_router(router_client: httpx.AsyncClient) -> None:
    query = "query($after: String) { users(first: 40, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }"
    seen: list[str] = []
    after = None
    for _ in range(100):
        page = (await _post(router_client, query, after=after)).json()["data"]["users"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(seen) >= 1_000
    assert len(seen) == len(set(seen))


async def test_mutation_and_validation_error(router_client: httpx.AsyncClient) -> None:
    mutation = """
    mutation($input: CreateExperimentInput!) {
      createExperiment(input: $input) {
        __typename
        ... on Experiment { id title status owner { email } cost { amountCents } }
        ... on ValidationError { field message }
      }
    }
    """
    owner = str(seed_id("user", 7))

    created = (await _post(router_client, mutation, input={"ownerId": owner, "title": "Router-made run"})).json()
    rejected = (await _post(router_client, mutation, input={"ownerId": owner, "title": ""})).json()

    experiment = created["data"]["createExperiment"]
    assert experiment["__typename"] == "Experiment"
    assert experiment["status"] == "DRAFT"
    assert experiment["owner"]["email"] == build_dataset().users[7].email
    assert experiment["cost"]["amountCents"] == 0
    error = rejected["data"]["createExperiment"]
    assert error["__typename"] == "ValidationError"
    assert error["field"] == "title"


async def test_invalid_query_rejected_by_router(router_client: httpx.AsyncClient) -> None:
    unknown_field = (await _post(router_client, "{ users { edges { node { shoeSize } } } }")).json()
    syntax = (await _post(router_client, "{ users { ")).json()

    assert "data" not in unknown_field or unknown_field["data"] is None
    assert unknown_field["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert any("shoeSize" in error["message"] for error in unknown_field["errors"]), unknown_field["errors"]
    assert syntax["errors"][0]["extensions"]["code"] == "PARSING_ERROR"


async def test_bad_argument_is_user_error(router_client: httpx.AsyncClient) -> None:
    body = (await _post(router_client, 'query { user(id: "42") { email } }')).json()

    assert body["data"]["user"] is None
    assert "'42'" in body["errors"][0]["message"]


# Each module's fields, as they appear in the README's example query, keyed by the module that
# serves them.
OVERVIEW = """
query($id: ID!) {
  user(id: $id) {
    email
    organisation { name }
    plan { code }
    invoices(first: 2) { edges { node { number } } }
    experiments(first: 3) { edges { node { title cost { amountCents } } } }
  }
}
"""


@pytest.mark.parametrize(
    ("module", "null_fields", "kept_fields"),
    [
        ("billing", ("plan", "invoices"), ("email", "organisation", "experiments")),
        ("labs", ("experiments",), ("email", "organisation", "plan", "invoices")),
    ],
)
async def test_module_down_keeps_other_fields(
    platform: Platform,
    router_client: httpx.AsyncClient,
    module: str,
    null_fields: tuple[str, ...],
    kept_fields: tuple[str, ...],
) -> None:
    user_id = str(seed_id("user", 3))
    platform.supervisor.stop_program(module)
    try:
        body = (await _post(router_client, OVERVIEW, id=user_id)).json()
    finally:
        platform.supervisor.start_program(module)
        await wait_healthy(checks_for(platform.settings)[module], 60)

    user = body["data"]["user"]
    assert user is not None, body
    assert user["email"] == build_dataset().users[3].email
    for field in null_fields:
        assert user[field] is None, f"{field} is served by {module} and must be null"
    for field in kept_fields:
        assert user[field] is not None, f"{field} must survive {module} being down"
    assert any(module in str(error) for error in body["errors"]), body["errors"]
    if module == "billing":
        costs = [edge["node"]["cost"] for edge in user["experiments"]["edges"]]
        assert costs and all(cost is None for cost in costs)


async def test_router_propagates_request_id(platform: Platform, router_client: httpx.AsyncClient) -> None:
    request_id = "e2e-request-id-7f3a"

    response = await router_client.post("/", json={"query": "{ plans { code } }"}, headers={"x-request-id": request_id})
    await asyncio.sleep(0.5)

    assert response.status_code == 200
    assert request_id in (platform.settings.log_dir / "billing.log").read_text()
