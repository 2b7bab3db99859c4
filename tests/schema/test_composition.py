"""Composition of small Strawberry federation subgraphs with @apollo/composition (Node.js)."""

from __future__ import annotations

import os
import shutil
import sys
import types
from pathlib import Path

import pytest
import strawberry
from click.testing import CliRunner
from strawberry.federation import Schema as FederationSchema

from labs64.settings import SUBGRAPH_NAMES, PlatformSettings
from schema import (
    CompositionFailed,
    SubgraphSource,
    collect_subgraphs,
    compose,
    load_subgraph_sdl,
    write_supergraph,
)
from schema import cli as schema_cli

requires_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="node not on PATH: composition runs in Node.js 20"
)


# Two subgraphs that share the `User` entity: `users` owns the profile, `labs` adds the labs a
# user owns and resolves `User` only by its key.


@strawberry.federation.type(keys=["id"], name="User")
class UsersUser:
    id: strawberry.ID
    display_name: str


@strawberry.type(name="Query")
class UsersQuery:
    @strawberry.field
    def users(self) -> list[UsersUser]:
        return []


@strawberry.type(name="Lab")
class Lab:
    id: strawberry.ID
    title: str


@strawberry.federation.type(keys=["id"], name="User")
class LabsUser:
    id: strawberry.ID
    labs: list[Lab]


@strawberry.type(name="Query")
class LabsQuery:
    @strawberry.field
    def lab(self, id: strawberry.ID) -> Lab | None:
        return None


# `labs` also declares `displayName` without @shareable, which federation 2 rejects as invalid
# field sharing because `users` already resolves that field.
@strawberry.federation.type(keys=["id"], name="User")
class ConflictingLabsUser:
    id: strawberry.ID
    display_name: str
    labs: list[Lab]


def users_schema() -> FederationSchema:
    return FederationSchema(query=UsersQuery)


def labs_schema() -> FederationSchema:
    # The entity is not reachable from Query, so it must be listed or Strawberry drops it.
    return FederationSchema(query=LabsQuery, types=[LabsUser])


def conflicting_labs_schema() -> FederationSchema:
    return FederationSchema(query=LabsQuery, types=[ConflictingLabsUser])


def good_sources() -> list[SubgraphSource]:
    return [
        SubgraphSource("users", "http://127.0.0.1:4101/graphql", users_schema().as_str()),
        SubgraphSource("labs", "http://127.0.0.1:4102/graphql", labs_schema().as_str()),
    ]


def conflicting_sources() -> list[SubgraphSource]:
    return [
        SubgraphSource("users", "http://127.0.0.1:4101/graphql", users_schema().as_str()),
        SubgraphSource("labs", "http://127.0.0.1:4102/graphql", conflicting_labs_schema().as_str()),
    ]


def install_schema_module(monkeypatch: pytest.MonkeyPatch, name: str, schema: object) -> None:
    """Make ``subgraphs.<name>.schema`` importable with ``schema`` as its module-level object."""
    module = types.ModuleType(f"subgraphs.{name}.schema")
    module.schema = schema
    monkeypatch.setitem(sys.modules, module.__name__, module)


def test_load_subgraph_sdl_returns_schema_sdl(monkeypatch: pytest.MonkeyPatch) -> None:
    install_schema_module(monkeypatch, "testusers", users_schema())

    sdl = load_subgraph_sdl("testusers")

    assert 'type User @key(fields: "id")' in sdl
    assert "displayName: String!" in sdl


@strawberry.type(name="Query")
class PlainQuery:
    hello: str = "world"


def test_load_subgraph_sdl_rejects_plain_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    install_schema_module(monkeypatch, "testplain", strawberry.Schema(query=PlainQuery))

    with pytest.raises(TypeError, match="strawberry.federation.Schema"):
        load_subgraph_sdl("testplain")


def test_load_subgraph_sdl_rejects_missing_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    install_schema_module(monkeypatch, "testempty", None)

    with pytest.raises(AttributeError, match="no module-level 'schema'"):
        load_subgraph_sdl("testempty")


def test_load_subgraph_sdl_rejects_invalid_name() -> None:
    with pytest.raises(ValueError, match="invalid subgraph name"):
        load_subgraph_sdl("users.schema")


def test_collect_subgraphs_uses_settings_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SUBGRAPH_NAMES:
        install_schema_module(monkeypatch, name, users_schema())
    settings = PlatformSettings(users_port=5101, labs_port=5102, billing_port=5103)

    sources = collect_subgraphs(settings)

    assert [source.name for source in sources] == list(SUBGRAPH_NAMES)
    assert [source.url for source in sources] == [
        "http://127.0.0.1:5101/graphql",
        "http://127.0.0.1:5102/graphql",
        "http://127.0.0.1:5103/graphql",
    ]
    assert all("type User" in source.sdl for source in sources)


@requires_node
def test_compose_shared_entity() -> None:
    result = compose(good_sources())

    assert result.ok
    assert result.errors == ()
    sdl = result.require_supergraph_sdl()
    assert 'USERS @join__graph(name: "users", url: "http://127.0.0.1:4101/graphql")' in sdl
    assert 'LABS @join__graph(name: "labs", url: "http://127.0.0.1:4102/graphql")' in sdl
    assert '@join__type(graph: USERS, key: "id")' in sdl
    assert '@join__type(graph: LABS, key: "id")' in sdl
    assert "displayName: String! @join__field(graph: USERS)" in sdl
    assert "labs: [Lab!]! @join__field(graph: LABS)" in sdl


@requires_node
def test_compose_invalid_field_sharing() -> None:
    result = compose(conflicting_sources())

    assert not result.ok
    assert result.supergraph_sdl is None
    codes = {error.code for error in result.errors}
    assert codes == {"INVALID_FIELD_SHARING"}
    error = result.errors[0]
    assert "User.displayName" in error.message
    located_subgraphs = {subgraph for subgraph, _line, _column in error.locations}
    assert located_subgraphs == {"users", "labs"}
    assert error.subgraph in {"users", "labs"}
    assert error.line is not None and error.line > 0
    assert error.column is not None and error.column > 0


@requires_node
def test_compose_field_type_mismatch() -> None:
    users = 'type Query { me: User }\ntype User @key(fields: "id") { id: ID!\n  age: Int @shareable }'
    labs = 'type Query { lab: ID }\ntype User @key(fields: "id") { id: ID!\n  age: String @shareable }'
    link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@shareable"])\n'
    sources = [SubgraphSource("users", "http://u", link + users), SubgraphSource("labs", "http://l", link + labs)]

    result = compose(sources)

    assert [error.code for error in result.errors] == ["FIELD_TYPE_MISMATCH"]
    error = result.errors[0]
    assert {location[0] for location in error.locations} == {"users", "labs"}
    # Both `age` fields are on line 4 of their SDL: @link, Query, then `type User { id` come first.
    assert {location[1] for location in error.locations} == {4}


@requires_node
def test_compose_syntax_error_names_subgraph() -> None:
    sources = [
        SubgraphSource("users", "http://u", users_schema().as_str()),
        SubgraphSource("labs", "http://l", "type Query {\n  lab: \n}\n"),
    ]

    result = compose(sources)

    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.code == "INVALID_GRAPHQL"
    assert error.subgraph == "labs"
    assert (error.line, error.column) == (3, 1)
    assert str(error).startswith("INVALID_GRAPHQL [labs:3:1] Syntax Error")


@requires_node
def test_require_supergraph_sdl_raises_failed() -> None:
    result = compose(conflicting_sources())

    with pytest.raises(CompositionFailed) as raised:
        result.require_supergraph_sdl()

    assert raised.value.errors == result.errors
    assert "INVALID_FIELD_SHARING" in str(raised.value)


def test_compose_rejects_duplicate_names() -> None:
    source = SubgraphSource("users", "http://u", "type Query { a: Int }")

    with pytest.raises(ValueError, match="duplicate subgraph names: users"):
        compose([source, source])


def test_write_supergraph_replaces_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "supergraph.graphql"

    write_supergraph("type Query { a: Int }", path)
    write_supergraph("type Query { b: Int }\n", path)

    assert path.read_text() == "type Query { b: Int }\n"
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["supergraph.graphql"]


def test_write_supergraph_keeps_previous_on_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text("previous\n")

    def failing_replace(source: str, destination: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_supergraph("type Query { a: Int }", path)

    assert path.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["supergraph.graphql"]


def test_write_supergraph_rejects_empty(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        write_supergraph("  \n", tmp_path / "supergraph.graphql")


@requires_node
def test_cli_compose_writes_supergraph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_cli, "collect_subgraphs", lambda settings: good_sources())
    path = tmp_path / "supergraph.graphql"

    result = CliRunner().invoke(schema_cli.schema_group, ["compose", "--output", str(path)])

    assert result.exit_code == 0, result.output
    assert f"supergraph written to {path} (2 subgraphs)" in result.output
    assert "@join__graph" in path.read_text()


@requires_node
def test_cli_compose_failure_keeps_previous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_cli, "collect_subgraphs", lambda settings: conflicting_sources())
    path = tmp_path / "supergraph.graphql"
    path.write_text("previous supergraph\n")

    result = CliRunner().invoke(schema_cli.schema_group, ["compose", "--output", str(path)])

    assert result.exit_code == 1
    assert "INVALID_FIELD_SHARING [users:" in result.output or "INVALID_FIELD_SHARING [labs:" in result.output
    assert f"{path} was not changed" in result.output
    assert path.read_text() == "previous supergraph\n"


def test_npm_ci_runs_when_packages_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from schema import composition

    composition_dir = tmp_path / "composition"
    composition_dir.mkdir()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # A stand-in for npm that records its arguments and installs empty package manifests.
    fake_npm = fake_bin / "npm"
    fake_npm.write_text(
        "#!/bin/sh\n"
        'echo "$@" > npm-arguments.txt\n'
        "mkdir -p node_modules/@apollo/composition node_modules/graphql\n"
        "echo '{}' > node_modules/@apollo/composition/package.json\n"
        "echo '{}' > node_modules/graphql/package.json\n"
    )
    fake_npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(composition, "COMPOSITION_DIR", composition_dir)
    messages: list[str] = []

    composition.ensure_composition_packages(messages.append)
    composition.ensure_composition_packages(messages.append)

    assert (composition_dir / "npm-arguments.txt").read_text().split() == ["ci", "--no-audit", "--no-fund"]
    assert len(messages) == 1
    assert "npm ci" in messages[0]
