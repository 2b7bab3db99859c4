"""Where operations come from: the persisted-operation manifest and the usage store; and lint configuration."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from graphql import build_schema

from schema.documents import OperationParseError, parse_operations
from schema.lint import LintConfig, LintConfigError, lint_schema
from schema.manifest import ManifestError, collect_operations, load_manifest, render_manifest
from schema.usage import UsageError, UsageStore

SCHEMA = build_schema("type Query { me: User } type User { id: ID! name: String }")


def test_operation_id_is_sha256_of_body() -> None:
    [operation] = parse_operations("query Me { me { ...Names } }\nfragment Names on User { name }", "me.graphql")

    assert operation.id == hashlib.sha256(operation.body.encode()).hexdigest()
    assert "fragment Names on User" in operation.body
    assert operation.location == "me.graphql:1"


def test_only_spread_fragments_are_included() -> None:
    text = "query A { me { ...F1 } }\nquery B { me { id } }\nfragment F1 on User { ...F2 }\nfragment F2 on User { name }"

    first, second = parse_operations(text)

    assert "fragment F1" in first.body
    assert "fragment F2" in first.body
    assert "fragment" not in second.body


def test_anonymous_operation_is_rejected() -> None:
    with pytest.raises(OperationParseError, match=r"web.graphql:2: anonymous operation"):
        parse_operations("\n{ me { id } }", "web.graphql")


def test_duplicate_operation_names_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("query Me { me { id } }")
    (tmp_path / "b.graphql").write_text("query Me { me { name } }")

    with pytest.raises(ManifestError, match="operation name 'Me' is used twice"):
        collect_operations(tmp_path)


def test_manifest_round_trip(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("query Me { me { id } }\nmutation Noop { me { id } }")
    manifest = tmp_path / "manifest.json"
    operations = collect_operations(tmp_path)
    manifest.write_text(render_manifest(operations))

    loaded = load_manifest(manifest)

    assert [(o.name, o.operation_type, o.id) for o in loaded] == [(o.name, o.operation_type, o.id) for o in sorted(operations, key=lambda o: o.name)]


def test_manifest_with_wrong_id_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("query Me { me { id } }")
    raw = json.loads(render_manifest(collect_operations(tmp_path)))
    raw["operations"][0]["body"] = "query Me { me { name } }"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(raw))

    with pytest.raises(ManifestError, match="body hashes to"):
        load_manifest(manifest)


def test_usage_store_merges_observations(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage" / "ops.jsonl")
    [me] = parse_operations("query Me { me { name } }")

    store.record([me], SCHEMA, client="web", count=3)
    store.record([me], SCHEMA, client="ios")
    [record] = store.load()

    assert record.hash == me.id
    assert record.count == 4
    assert record.clients == {"web", "ios"}
    assert {"Query.me", "User.name"} <= record.coordinates
    assert record.as_operation().origin == "recorded"


def test_usage_store_rejects_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "ops.jsonl"
    path.write_text('{"hash": "x", "name": "A"}\nnot json\n')

    with pytest.raises(UsageError, match=r"ops.jsonl:2: not a usage record"):
        UsageStore(path).load()


def test_missing_usage_store_is_empty(tmp_path: Path) -> None:
    assert UsageStore(tmp_path / "none.jsonl").load() == []


def test_lint_config_rejects_bad_severity(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.labs64.schema-lint.rules]\ntype-descriptions = "fatal"\n')

    with pytest.raises(LintConfigError, match="severity 'fatal'; use 'error', 'warning' or 'off'"):
        LintConfig.load(path)


def test_lint_ignore_patterns(tmp_path: Path) -> None:
    schema = build_schema('type Query { "A." me: UserEdge }\ntype UserEdge { id: ID }\ninput filter { a: Int }')
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.labs64.schema-lint]\nignore = ["*Edge"]\n[tool.labs64.schema-lint.rules]\ntype-descriptions = "error"\n')

    violations = lint_schema(schema, LintConfig.load(path))

    assert {(v.rule, v.coordinate) for v in violations} == {
        ("type-names-pascal-case", "filter"),
        ("input-type-suffix", "filter"),
        ("type-descriptions", "filter"),
    }
