"""The API schema built from a supergraph: federation machinery and @inaccessible elements removed."""

from __future__ import annotations

import pytest
from graphql import print_schema

from schema.api import ApiSchemaError, api_schema_from_supergraph
from schema.check import COMMITTED_SUPERGRAPH

SUPERGRAPH = '''
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
  @link(url: "https://specs.apollo.dev/tag/v0.3")
{
  query: Query
}

directive @join__field(graph: join__Graph, type: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT
directive @lowercase on FIELD

scalar join__FieldSet
scalar link__Import
enum join__Graph { USERS @join__graph(name: "users", url: "http://127.0.0.1:4101/graphql") }
enum link__Purpose { SECURITY EXECUTION }

type Query @join__type(graph: USERS) {
  user(id: ID!, debug: Boolean @inaccessible): User @join__field(graph: USERS)
  internal: Secret @inaccessible
}

type User @join__type(graph: USERS, key: "id") @tag(name: "public") {
  id: ID!
  email: String! @tag(name: "pii")
  name: String @deprecated(reason: "Use email.")
  passwordHash: String @inaccessible
  role: Role
}

enum Role @join__type(graph: USERS) {
  ADMIN
  MEMBER
  SYSTEM @inaccessible
}

type Secret @inaccessible { value: String }
'''


def test_machinery_is_removed() -> None:
    printed = print_schema(api_schema_from_supergraph(SUPERGRAPH))

    assert "join__" not in printed
    assert "link__" not in printed
    assert "@link" not in printed
    assert "@tag" not in printed
    assert "@join" not in printed


def test_inaccessible_elements_are_removed() -> None:
    schema = api_schema_from_supergraph(SUPERGRAPH)

    assert "passwordHash" not in schema.get_type("User").fields
    assert list(schema.get_type("Role").values) == ["ADMIN", "MEMBER"]
    assert list(schema.query_type.fields["user"].args) == ["id"]
    assert "internal" not in schema.query_type.fields
    assert schema.get_type("Secret") is None


def test_client_directives_are_kept() -> None:
    schema = api_schema_from_supergraph(SUPERGRAPH)

    assert schema.get_type("User").fields["name"].deprecation_reason == "Use email."
    assert schema.get_directive("lowercase") is not None


def test_committed_supergraph_builds() -> None:
    schema = api_schema_from_supergraph(COMMITTED_SUPERGRAPH.read_text())

    assert schema.query_type is not None
    assert schema.mutation_type is not None
    assert schema.get_type("join__Graph") is None


def test_invalid_sdl_names_source() -> None:
    with pytest.raises(ApiSchemaError, match="invalid supergraph SDL in version 7"):
        api_schema_from_supergraph("type Query {", "version 7")
