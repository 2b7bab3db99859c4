"""Signed-in users through the router: each sees their own experiments and invoices, and no one else's."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import jwt
import pytest

from identity.admin import FiefAdmin
from identity.catalog import SEED_PASSWORD
from identity.config import IdentityConfig
from identity.oauth import sign_in_with_password
from labs64.dataset import build_dataset, seed_id

pytestmark = pytest.mark.platform

DATASET = build_dataset()

ME = """
{
  me {
    id
    email
    experiments(first: 100) { totalCount edges { node { id } } }
    invoices(first: 100) { totalCount edges { node { number } } }
  }
}
"""


async def _query(client: httpx.AsyncClient, token: str, query: str, **variables: object) -> dict:
    response = await client.post("/", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def _expected_experiments(ordinal: int) -> set[str]:
    subject = seed_id("user", ordinal)
    return {str(e.id) for e in DATASET.experiments if e.owner_id == subject or subject in e.member_ids}


def _expected_invoices(ordinal: int) -> set[str]:
    return {invoice.number for invoice in DATASET.invoices if invoice.user_id == seed_id("user", ordinal)}


@pytest.mark.parametrize("ordinal", [3, 4])
async def test_signed_in_user_sees_own_experiments_and_invoices(
    anonymous_router_client: httpx.AsyncClient, identity: IdentityConfig, ordinal: int
) -> None:
    user = DATASET.users[ordinal]
    tokens = sign_in_with_password(identity, user.email, SEED_PASSWORD)

    body = await _query(anonymous_router_client, str(tokens["access_token"]), ME)

    assert "errors" not in body, body.get("errors")
    me = body["data"]["me"]
    assert me["email"] == user.email
    # Experiments created by other tests may add to the seeded ones, never remove from them.
    assert _expected_experiments(ordinal) <= {edge["node"]["id"] for edge in me["experiments"]["edges"]}
    assert {edge["node"]["number"] for edge in me["invoices"]["edges"]} == _expected_invoices(ordinal)


async def test_two_users_see_different_data(anonymous_router_client: httpx.AsyncClient, identity: IdentityConfig) -> None:
    first = sign_in_with_password(identity, DATASET.users[3].email, SEED_PASSWORD)["access_token"]
    second = sign_in_with_password(identity, DATASET.users[4].email, SEED_PASSWORD)["access_token"]

    mine = (await _query(anonymous_router_client, str(first), ME))["data"]["me"]
    theirs = (await _query(anonymous_router_client, str(second), ME))["data"]["me"]

    assert mine["id"] != theirs["id"]
    assert {e["node"]["number"] for e in mine["invoices"]["edges"]}.isdisjoint(e["node"]["number"] for e in theirs["invoices"]["edges"])
    own_only = _expected_experiments(3) - _expected_experiments(4)
    assert own_only and own_only.isdisjoint(e["node"]["id"] for e in theirs["experiments"]["edges"])


async def test_foreign_invoices_forbidden_rest_intact(
    anonymous_router_client: httpx.AsyncClient, seeded_token
) -> None:
    query = "query($id: ID!) { user(id: $id) { email invoices(first: 1) { totalCount } } }"

    body = await _query(anonymous_router_client, seeded_token(3), query, id=str(seed_id("user", 4)))

    assert body["data"]["user"]["email"] == DATASET.users[4].email
    assert body["data"]["user"]["invoices"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]


async def test_billing_read_holder_sees_other_users_invoices(anonymous_router_client: httpx.AsyncClient, seeded_token) -> None:
    query = "query($id: ID!) { user(id: $id) { invoices(first: 1) { totalCount } } }"

    body = await _query(anonymous_router_client, seeded_token(1), query, id=str(seed_id("user", 4)))

    assert "errors" not in body, body["errors"]
    assert body["data"]["user"]["invoices"]["totalCount"] == 20


async def test_no_token_is_unauthenticated(anonymous_router_client: httpx.AsyncClient) -> None:
    query = "{ me { email } users(first: 1) { totalCount } plans { code } }"
    response = await anonymous_router_client.post("/", json={"query": query})
    body = response.json()

    assert response.status_code == 200
    assert body["data"]["me"] is None
    assert body["data"]["users"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
    assert sorted(error["path"][0] for error in body["errors"]) == ["me", "users"]
    # The price list is public, so an anonymous caller still gets it.
    assert [plan["code"] for plan in body["data"]["plans"]] == ["free", "team", "enterprise"]


async def test_new_sign_up_registers_profile(
    anonymous_router_client: httpx.AsyncClient, fief_admin: FiefAdmin, identity: IdentityConfig
) -> None:
    email = f"newcomer-{uuid.uuid4().hex[:8]}@example.com"
    fief_admin.create("users", {"email": email, "password": "a-long-enough-passphrase-42", "email_verified": True, "tenant_id": identity.tenant_id})
    # Fief's worker grants the default role shortly after the account exists.
    for _ in range(40):
        token = str(sign_in_with_password(identity, email, "a-long-enough-passphrase-42")["access_token"])
        if "experiments:write" in jwt_permissions(token):
            break
        await asyncio.sleep(0.5)
    register = """
    mutation($org: ID!) { registerProfile(input: {displayName: "New Comer", organisationId: $org}) { __typename ... on User { id email } } }
    """

    before = await _query(anonymous_router_client, token, "{ me { id } }")
    created = await _query(anonymous_router_client, token, register, org=str(DATASET.organisations[0].id))
    after = await _query(anonymous_router_client, token, "{ me { email experiments(first: 1) { totalCount } } }")

    assert "experiments:write" in jwt_permissions(token)
    assert before["data"]["me"] is None
    assert created["data"]["registerProfile"]["email"] == email
    assert after["data"]["me"] == {"email": email, "experiments": {"totalCount": 0}}


def jwt_permissions(token: str) -> list[str]:
    return jwt.decode(token, options={"verify_signature": False})["permissions"]
