"""Change classification and the coordinates that tie changes to operations."""

from __future__ import annotations

from graphql import BreakingChangeType, DangerousChangeType, build_schema

from schema.changes import _BREAKING_PATTERNS, _DANGEROUS_PATTERNS, ChangeSeverity, diff_schemas
from schema.check import analyse
from schema.documents import operation_coordinates, parse_operations

OLD = build_schema('''
directive @trace(level: Int) on FIELD
type Query {
  user(id: ID!): User
  search(term: String, limit: Int = 10): [Result!]!
}
type User { id: ID! email: String! role: Role! }
type Team { id: ID! }
union Result = User | Team
enum Role { ADMIN MEMBER }
input Filter { role: Role, name: String }
type Mutation { invite(input: Filter!): User }
''')

OPERATIONS = parse_operations('''
query Profile($id: ID!) { user(id: $id) { email role } }
query Search { search(term: "a") { ... on Team { id } ... on User { id @trace(level: 1) } } }
mutation Invite($input: Filter!) { invite(input: $input) { id } }
''')


def names(impact_operations) -> set[str]:
    return {impact.operation.name for impact in impact_operations}


def test_every_breaking_change_type_has_a_pattern() -> None:
    assert set(_BREAKING_PATTERNS) == set(BreakingChangeType)


def test_every_dangerous_change_type_has_a_pattern() -> None:
    assert set(_DANGEROUS_PATTERNS) == set(DangerousChangeType)


def test_coordinates_of_operations() -> None:
    profile, search, invite = OPERATIONS

    assert {"Query.user", "Query.user(id:)", "User.email", "User.role", "Role"} <= operation_coordinates(profile, [OLD])
    assert {"Result", "Team", "Team.id", "User.id", "@trace", "@trace(level:)", "Query.search(term:)"} <= operation_coordinates(search, [OLD])
    assert "Query.search(limit:)" not in operation_coordinates(search, [OLD])
    # A variable carries the whole input object, so every input field is in use.
    assert {"Filter", "Filter.role", "Filter.name", "Role"} <= operation_coordinates(invite, [OLD])


def test_argument_removal_affects_only_callers_passing_it() -> None:
    new = build_schema('''
    directive @trace(level: Int) on FIELD
    type Query { user(id: ID!): User search: [Result!]! }
    type User { id: ID! email: String! role: Role! }
    type Team { id: ID! }
    union Result = User | Team
    enum Role { ADMIN MEMBER }
    input Filter { role: Role, name: String }
    type Mutation { invite(input: Filter!): User }
    ''')

    impacts, invalid = analyse(OLD, new, OPERATIONS)

    removed = {impact.change.coordinate: impact for impact in impacts if impact.change.kind == "ARG_REMOVED"}
    assert set(removed) == {"Query.search(term:)", "Query.search(limit:)"}
    assert names(removed["Query.search(term:)"].operations) == {"Search"}
    assert names(removed["Query.search(limit:)"].operations) == set()
    assert names(invalid) == {"Search"}


def test_union_member_removal_affects_operations_using_member() -> None:
    new = build_schema('''
    directive @trace(level: Int) on FIELD
    type Query { user(id: ID!): User search(term: String, limit: Int = 10): [Result!]! }
    type User { id: ID! email: String! role: Role! }
    type Team { id: ID! }
    union Result = User
    enum Role { ADMIN MEMBER }
    input Filter { role: Role, name: String }
    type Mutation { invite(input: Filter!): User }
    ''')

    impacts, _invalid = analyse(OLD, new, OPERATIONS)

    [removal] = [impact for impact in impacts if impact.change.kind == "TYPE_REMOVED_FROM_UNION"]
    assert removal.change.severity is ChangeSeverity.BREAKING
    assert names(removal.operations) == {"Search"}


def test_changes_sorted_by_severity() -> None:
    new = build_schema('''
    directive @trace(level: Int) on FIELD
    type Query { user(id: ID!): User search(term: String, limit: Int = 20): [Result!]! version: String }
    type User { id: ID! role: Role! }
    type Team { id: ID! }
    union Result = User | Team
    enum Role { ADMIN MEMBER GUEST }
    input Filter { role: Role, name: String }
    type Mutation { invite(input: Filter!): User }
    ''')

    changes = diff_schemas(OLD, new)

    assert [c.severity.value for c in changes] == ["breaking", "dangerous", "dangerous", "safe"]
    assert {(c.severity.value, c.kind, c.coordinate) for c in changes} == {
        ("breaking", "FIELD_REMOVED", "User.email"),
        ("dangerous", "VALUE_ADDED_TO_ENUM", "Role.GUEST"),
        ("dangerous", "ARG_DEFAULT_VALUE_CHANGE", "Query.search(limit:)"),
        ("safe", "FIELD_ADDED", "Query.version"),
    }
