"""The users module's mutations against real PostgreSQL."""

from __future__ import annotations

import uuid

from labs64.dataset import seed_id
from subgraphs.kit import Database, RequestContext
from subgraphs.users.schema import schema
from tests.identity.principals import ADMIN_PRINCIPAL

CREATE_USER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on User { id email displayName organisation { id } }
    ... on ValidationError { message field code }
    ... on NotFoundError { message id }
  }
}
"""


async def _create(database: Database, **values: str) -> dict:
    payload = {"email": f"new-{uuid.uuid4().hex[:8]}@example.com", "displayName": "New Person", "organisationId": str(seed_id("organisation", 3))}
    result = await schema.execute(CREATE_USER, variable_values={"input": payload | values}, context_value=RequestContext(database=database, principal=ADMIN_PRINCIPAL))
    assert result.errors is None, result.errors
    return result.data["createUser"]


async def test_create_user_stores_profile(users_database: Database) -> None:
    created = await _create(users_database, email="Grace.Hopper@Example.com")

    assert created["__typename"] == "User"
    assert created["email"] == "grace.hopper@example.com"
    assert created["organisation"]["id"] == str(seed_id("organisation", 3))


async def test_duplicate_email_is_typed_error(users_database: Database) -> None:
    await _create(users_database, email="twice@example.com")

    second = await _create(users_database, email="twice@example.com")

    assert second["__typename"] == "ValidationError"
    assert second["code"] == "EMAIL_TAKEN"
    assert second["field"] == "email"


async def test_unknown_organisation_is_not_found(users_database: Database) -> None:
    missing = str(uuid.uuid4())

    result = await _create(users_database, organisationId=missing)

    assert result["__typename"] == "NotFoundError"
    assert result["id"] == missing
