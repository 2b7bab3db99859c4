"""Entity resolution of the users module against real PostgreSQL."""

from __future__ import annotations

import pytest

from labs64.dataset import seed_id
from subgraphs.kit import Database, RequestContext
from subgraphs.users.schema import schema
from tests.kit.sql_counter import count_statements
from tests.identity.principals import ADMIN_PRINCIPAL

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User { id email organisation { name } }
  }
}
"""


async def _resolve_users(database: Database, count: int) -> tuple[list, list[str]]:
    representations = [{"__typename": "User", "id": str(seed_id("user", i))} for i in range(count)]
    with count_statements(database) as statements:
        result = await schema.execute(
            ENTITIES, variable_values={"representations": representations}, context_value=RequestContext(database=database, principal=ADMIN_PRINCIPAL)
        )
    assert result.errors is None, result.errors
    return result.data["_entities"], statements


@pytest.mark.parametrize("count", [1, 10, 100])
async def test_entities_batched_constant_statements(users_database: Database, count: int) -> None:
    entities, statements = await _resolve_users(users_database, count)

    assert len(entities) == count
    assert all(entity is not None for entity in entities)
    # One statement for the users and one for their organisations, whatever the count.
    assert len(statements) == 2, statements


async def test_entities_keep_representation_order(users_database: Database) -> None:
    entities, _ = await _resolve_users(users_database, 25)

    assert [entity["id"] for entity in entities] == [str(seed_id("user", i)) for i in range(25)]


async def test_unknown_representation_resolves_to_null(users_database: Database) -> None:
    representations = [{"__typename": "User", "id": "00000000-0000-0000-0000-000000000000"}, {"__typename": "User", "id": "garbage"}]

    result = await schema.execute(
        ENTITIES, variable_values={"representations": representations}, context_value=RequestContext(database=users_database, principal=ADMIN_PRINCIPAL)
    )

    assert result.errors is None
    assert result.data["_entities"] == [None, None]
