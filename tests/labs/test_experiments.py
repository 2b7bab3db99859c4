"""The labs module against real PostgreSQL: pagination, lifecycle and membership."""

from __future__ import annotations

from labs64.dataset import build_dataset, seed_id
from subgraphs.kit import Database, RequestContext
from subgraphs.labs.schema import schema
from tests.kit.sql_counter import count_statements
from tests.identity.principals import ADMIN_PRINCIPAL

PAGE = """
query($first: Int, $after: String) {
  experiments(first: $first, after: $after, status: DRAFT) {
    totalCount
    edges { cursor node { id status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _run(database: Database, query: str, **variables: object) -> dict:
    result = await schema.execute(query, variable_values=variables, context_value=RequestContext(database=database, principal=ADMIN_PRINCIPAL))
    assert result.errors is None, result.errors
    return result.data


async def test_pagination_walks_every_row_once(labs_database: Database) -> None:
    seen: list[str] = []
    after = None
    total = None
    while True:
        page = (await _run(labs_database, PAGE, first=100, after=after))["experiments"]
        total = page["totalCount"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(seen) == total
    assert len(set(seen)) == total
    assert total >= sum(1 for e in build_dataset().experiments if e.status == "draft")


async def test_user_experiments_include_memberships(labs_database: Database) -> None:
    dataset = build_dataset()
    member = next(e for e in dataset.experiments if e.member_ids).member_ids[0]
    expected = {str(e.id) for e in dataset.experiments if e.owner_id == member or member in e.member_ids}
    query = """
    query($r: [_Any!]!) { _entities(representations: $r) { ... on User { experiments(first: 100) { totalCount edges { node { id } } } } } }
    """

    data = await _run(labs_database, query, r=[{"__typename": "User", "id": str(member)}])
    connection = data["_entities"][0]["experiments"]

    assert connection["totalCount"] >= len(expected)
    assert expected <= {edge["node"]["id"] for edge in connection["edges"]}


async def test_experiment_lifecycle_round_trip(labs_database: Database) -> None:
    owner = str(seed_id("user", 5))
    create = """
    mutation($owner: ID!) { createExperiment(input: {ownerId: $owner, title: "Yield sweep", parameters: {replicates: 3}}) {
      ... on Experiment { id status parameters owner { id } } } }
    """
    transition = """
    mutation($id: ID!, $status: ExperimentStatus!, $summary: String) {
      transitionExperiment(input: {id: $id, status: $status, resultSummary: $summary}) {
        __typename ... on Experiment { status startedAt finishedAt resultSummary } ... on ValidationError { code message } } }
    """

    created = (await _run(labs_database, create, owner=owner))["createExperiment"]
    started = (await _run(labs_database, transition, id=created["id"], status="RUNNING"))["transitionExperiment"]
    done = (await _run(labs_database, transition, id=created["id"], status="COMPLETED", summary="Yield up 4%"))["transitionExperiment"]
    again = (await _run(labs_database, transition, id=created["id"], status="RUNNING"))["transitionExperiment"]

    assert created["status"] == "DRAFT"
    assert created["parameters"] == {"replicates": 3}
    assert started["status"] == "RUNNING"
    assert started["startedAt"] is not None
    assert done["status"] == "COMPLETED"
    assert done["resultSummary"] == "Yield up 4%"
    assert again["__typename"] == "ValidationError"
    assert again["code"] == "INVALID_TRANSITION"


async def test_experiment_entities_batched(labs_database: Database) -> None:
    representations = [{"__typename": "Experiment", "id": str(seed_id("experiment", i))} for i in range(100)]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Experiment { id title } } }"

    with count_statements(labs_database) as statements:
        data = await _run(labs_database, query, r=representations)

    assert len(data["_entities"]) == 100
    assert len(statements) == 1, statements
