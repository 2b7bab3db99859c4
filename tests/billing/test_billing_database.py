"""The billing module against real PostgreSQL: plan changes and batched costs."""

from __future__ import annotations

from labs64.dataset import build_dataset, seed_id
from subgraphs.billing.schema import schema
from subgraphs.kit import Database, RequestContext
from tests.kit.sql_counter import count_statements
from tests.identity.principals import ADMIN_PRINCIPAL


async def _run(database: Database, query: str, **variables: object) -> dict:
    result = await schema.execute(query, variable_values=variables, context_value=RequestContext(database=database, principal=ADMIN_PRINCIPAL))
    assert result.errors is None, result.errors
    return result.data


async def test_change_plan_round_trip(billing_database: Database) -> None:
    user = str(seed_id("user", 30))  # user 30 is seeded on the free plan (ordinal % 3 == 0)
    mutation = """
    mutation($user: ID!, $code: String!) { changePlan(input: {userId: $user, planCode: $code}) {
      __typename ... on PlanSubscription { status plan { code } } ... on ValidationError { code field } } }
    """
    plan_query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { plan { code } } } }'

    changed = (await _run(billing_database, mutation, user=user, code="team"))["changePlan"]
    unchanged = (await _run(billing_database, mutation, user=user, code="team"))["changePlan"]
    unknown = (await _run(billing_database, mutation, user=user, code="platinum"))["changePlan"]
    current = (await _run(billing_database, plan_query, r=[{"__typename": "User", "id": user}]))["_entities"][0]

    assert changed == {"__typename": "PlanSubscription", "status": "ACTIVE", "plan": {"code": "team"}}
    assert unchanged["code"] == "PLAN_UNCHANGED"
    assert unknown["field"] == "planCode"
    assert current["plan"]["code"] == "team"


async def test_experiment_costs_one_statement(billing_database: Database) -> None:
    dataset = build_dataset()
    experiments = dataset.experiments[:100]
    invoiced = {line.experiment_id: line.amount_cents for invoice in dataset.invoices for line in invoice.lines if line.experiment_id}
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Experiment { id cost { amountCents } } } }"
    representations = [{"__typename": "Experiment", "id": str(e.id)} for e in experiments]

    with count_statements(billing_database) as statements:
        entities = (await _run(billing_database, query, r=representations))["_entities"]

    assert len(statements) == 1, statements
    assert [e["cost"]["amountCents"] for e in entities] == [invoiced.get(e.id, 0) for e in experiments]


async def test_user_plans_batched(billing_database: Database) -> None:
    representations = [{"__typename": "User", "id": str(seed_id("user", i))} for i in range(100)]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { plan { code } } } }"

    with count_statements(billing_database) as statements:
        entities = (await _run(billing_database, query, r=representations))["_entities"]

    assert len(statements) == 1, statements
    assert all(entity["plan"] is not None for entity in entities)
