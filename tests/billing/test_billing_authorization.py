"""Who sees plans and invoices: the billing module's rules, run in-process against real PostgreSQL."""

from __future__ import annotations

from identity.verifier import Principal
from labs64.dataset import seed_id
from subgraphs.billing.schema import schema
from subgraphs.kit import Database, RequestContext
from tests.identity.principals import seeded_principal

USER_BILLING = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id invoices(first: 2) { totalCount } plan { code } } } }
"""


async def _execute(database: Database, caller: Principal | None, query: str, **variables: object):  # type: ignore[no-untyped-def]
    return await schema.execute(query, variable_values=variables, context_value=RequestContext(database=database, principal=caller))


def _user(ordinal: int) -> list[dict[str, str]]:
    return [{"__typename": "User", "id": str(seed_id("user", ordinal))}]


async def test_users_see_their_own_invoices_and_plan(billing_database: Database) -> None:
    result = await _execute(billing_database, seeded_principal(5), USER_BILLING, r=_user(5))

    assert result.errors is None
    assert result.data["_entities"][0]["invoices"]["totalCount"] == 20
    assert result.data["_entities"][0]["plan"] is not None


async def test_other_users_billing_is_forbidden_field_by_field(billing_database: Database) -> None:
    result = await _execute(billing_database, seeded_principal(5), USER_BILLING, r=_user(6))

    assert result.data["_entities"][0]["id"] == str(seed_id("user", 6))
    assert sorted(error.path[-1] for error in result.errors) == ["invoices", "plan"]
    assert {error.extensions["code"] for error in result.errors} == {"FORBIDDEN"}


async def test_billing_read_sees_everyones_invoices(billing_database: Database) -> None:
    result = await _execute(billing_database, seeded_principal(1), USER_BILLING, r=_user(6))

    assert result.errors is None
    assert result.data["_entities"][0]["invoices"]["totalCount"] == 20


async def test_invoice_by_id_follows_the_same_rule(billing_database: Database) -> None:
    invoice = str(seed_id("invoice", 6 * 20))  # the first invoice of user 6
    query = 'query($id: ID!) { invoice(id: $id) { number } }'

    owner = await _execute(billing_database, seeded_principal(6), query, id=invoice)
    stranger = await _execute(billing_database, seeded_principal(5), query, id=invoice)

    assert owner.data["invoice"]["number"].endswith("00006")
    assert stranger.data["invoice"] is None
    assert stranger.errors[0].extensions["code"] == "FORBIDDEN"


async def test_users_change_only_their_own_plan(billing_database: Database) -> None:
    mutation = 'mutation($u: ID!) { changePlan(input: {userId: $u, planCode: "enterprise"}) { __typename } }'

    foreign = await _execute(billing_database, seeded_principal(7), mutation, u=str(seed_id("user", 8)))

    assert foreign.errors[0].extensions["code"] == "FORBIDDEN"


async def test_plans_are_public(billing_database: Database) -> None:
    result = await _execute(billing_database, None, "{ plans { code } plan(code: \"team\") { code } }")

    assert result.errors is None
    assert [plan["code"] for plan in result.data["plans"]] == ["free", "team", "enterprise"]
    assert result.data["plan"] == {"code": "team"}
