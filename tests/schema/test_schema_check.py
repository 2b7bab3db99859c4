"""`labs64 schema check` through the command line: a table of schema changes and their verdicts.

Each case edits one subgraph's SDL (generated from the code), passes it as `--subgraph NAME --sdl
FILE`, and compares with a baseline composed from the unchanged code, so the committed supergraph
file does not influence the outcome. Operations come from the committed manifest.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from labs64.cli import cli
from schema import collect_subgraphs, compose, load_subgraph_sdl

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node not on PATH: composition runs in Node.js 20")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The supergraph of the code as it is, which every case is compared with."""
    path = tmp_path_factory.mktemp("baseline") / "supergraph.graphql"
    path.write_text(compose(collect_subgraphs()).require_supergraph_sdl())
    return path


def edit_block(sdl: str, header: str, old: str, new: str) -> str:
    """Replace ``old`` with ``new`` inside the block that starts with ``header`` (such as ``type Plan``)."""
    match = re.search(rf"^{re.escape(header)}\b[^{{]*\{{(?P<body>.*?)^\}}", sdl, flags=re.MULTILINE | re.DOTALL)
    assert match is not None, f"{header} not found in the SDL"
    body = match.group("body")
    assert old in body, f"{old!r} not found in {header}"
    start, end = match.span("body")
    return sdl[:start] + body.replace(old, new, 1) + sdl[end:]


def run_check(tmp_path: Path, baseline: Path, subgraph: str, sdl: str, *extra: str) -> Result:
    sdl_path = tmp_path / f"{subgraph}.graphql"
    sdl_path.write_text(sdl)
    arguments = ["schema", "check", "--subgraph", subgraph, "--sdl", str(sdl_path), "--baseline", str(baseline), *extra]
    return CliRunner().invoke(cli, arguments)


def check_json(tmp_path: Path, baseline: Path, subgraph: str, sdl: str, *extra: str) -> tuple[int, dict]:
    result = run_check(tmp_path, baseline, subgraph, sdl, "--format", "json", *extra)
    return result.exit_code, json.loads(result.stdout)


# Field definitions of `type Plan` in billing's SDL, with their descriptions.
COMPUTE_HOUR_PRICE = '  """Price of one hour of experiment compute."""\n  computeHourPrice: Money!\n'
EXPERIMENT_QUOTA = '  """Number of experiments the plan includes."""\n  experimentQuota: Int!\n'


@dataclass(frozen=True)
class Case:
    """One schema change and the verdict the check must reach."""

    name: str
    subgraph: str
    header: str
    old: str
    new: str
    exit_code: int
    severity: str
    kind: str
    coordinate: str
    #: Operations the change must name; empty when no known operation uses the element.
    operations: frozenset[str] = field(default_factory=frozenset)


CASES = [
    Case("add field", "billing", "type Plan", "  name: String!\n", "  name: String!\n  tagline: String\n",
         0, "safe", "FIELD_ADDED", "Plan.tagline"),
    Case("remove used field", "billing", "type Plan", "  name: String!\n", "",
         1, "breaking", "FIELD_REMOVED", "Plan.name", frozenset({"PlanCatalogue", "UserBilling", "Plans", "PlanByCode"})),
    Case("remove unused field", "billing", "type Plan", COMPUTE_HOUR_PRICE, "",
         0, "breaking", "FIELD_REMOVED", "Plan.computeHourPrice"),
    Case("change field type", "billing", "type Plan", "  experimentQuota: Int!\n", "  experimentQuota: String!\n",
         1, "breaking", "FIELD_CHANGED_KIND", "Plan.experimentQuota", frozenset({"PlanCatalogue", "Plans", "PlanByCode"})),
    Case("add required argument", "billing", "type Query", "  plans: [Plan!]!\n", "  plans(currency: String!): [Plan!]!\n",
         1, "breaking", "REQUIRED_ARG_ADDED", "Query.plans(currency:)", frozenset({"PlanCatalogue", "Plans"})),
    Case("remove enum value", "labs", "enum ExperimentStatus", "  FAILED\n", "",
         1, "breaking", "VALUE_REMOVED_FROM_ENUM", "ExperimentStatus.FAILED",
         frozenset({"ExperimentList", "ExperimentDetail", "RunningExperiments", "CreateExperiment", "TransitionExperiment"})),
    Case("input field becomes non-null", "labs", "input TransitionExperimentInput", "  resultSummary: String = null\n", "  resultSummary: String!\n",
         1, "breaking", "FIELD_CHANGED_KIND", "TransitionExperimentInput.resultSummary", frozenset({"TransitionExperiment"})),
    Case("add enum value", "labs", "enum ExperimentStatus", "  FAILED\n", "  FAILED\n  CANCELLED\n",
         0, "dangerous", "VALUE_ADDED_TO_ENUM", "ExperimentStatus.CANCELLED",
         frozenset({"ExperimentList", "ExperimentDetail", "RunningExperiments", "CreateExperiment", "TransitionExperiment"})),
    Case("add optional argument", "billing", "type Query", "  plans: [Plan!]!\n", "  plans(currency: String): [Plan!]!\n",
         0, "dangerous", "OPTIONAL_ARG_ADDED", "Query.plans(currency:)", frozenset({"PlanCatalogue", "Plans"})),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_change_verdict(case: Case, tmp_path: Path, baseline: Path) -> None:
    sdl = edit_block(load_subgraph_sdl(case.subgraph), case.header, case.old, case.new)

    exit_code, report = check_json(tmp_path, baseline, case.subgraph, sdl)

    assert exit_code == case.exit_code, report["failures"]
    assert report["exit_code"] == case.exit_code
    matching = [change for change in report["changes"] if change["coordinate"] == case.coordinate]
    assert len(matching) == 1, report["changes"]
    change = matching[0]
    assert change["severity"] == case.severity
    assert change["kind"] == case.kind
    assert {operation["name"] for operation in change["operations"]} == case.operations


def test_edge_operation_counts_as_use(tmp_path: Path, baseline: Path) -> None:
    # Only the edge Worker's PlanByCode reads `plan(code:)`, so its removal must name that operation.
    field = '\n  """One plan by code, or null when none has it."""\n  plan(code: String!): Plan\n'
    sdl = edit_block(load_subgraph_sdl("billing"), "type Query", field, "\n")

    exit_code, report = check_json(tmp_path, baseline, "billing", sdl)

    assert exit_code == 1, report["changes"]
    removed = next(change for change in report["changes"] if change["coordinate"] == "Query.plan")
    assert [(impact["name"], impact["file"]) for impact in removed["operations"]] == [
        ("PlanByCode", "deploy/edge/operations/plan_by_code.graphql")
    ]


def test_unused_breaking_change_fails_when_strict(tmp_path: Path, baseline: Path) -> None:
    sdl = edit_block(load_subgraph_sdl("billing"), "type Plan", COMPUTE_HOUR_PRICE, "")

    exit_code, report = check_json(tmp_path, baseline, "billing", sdl, "--strict")

    assert exit_code == 1
    assert any("--strict" in failure for failure in report["failures"])


def test_recorded_usage_makes_field_used(tmp_path: Path, baseline: Path) -> None:
    operations = tmp_path / "admin.graphql"
    operations.write_text("query AdminPlanPrices { plans { code computeHourPrice { amountCents } } }\n")
    store = tmp_path / "usage.jsonl"
    recorded = CliRunner().invoke(cli, ["schema", "usage", "record", str(operations), "--client", "admin", "--store", str(store)])
    assert recorded.exit_code == 0, recorded.output
    sdl = edit_block(load_subgraph_sdl("billing"), "type Plan", COMPUTE_HOUR_PRICE, "")

    exit_code, report = check_json(tmp_path, baseline, "billing", sdl, "--usage", str(store))

    assert exit_code == 1
    change = next(c for c in report["changes"] if c["coordinate"] == "Plan.computeHourPrice")
    assert [(o["name"], o["origin"]) for o in change["operations"]] == [("AdminPlanPrices", "recorded")]
    assert report["operations"]["recorded"] == 1


def test_removed_field_text_report_names_operation(tmp_path: Path, baseline: Path) -> None:
    sdl = edit_block(load_subgraph_sdl("billing"), "type Plan", EXPERIMENT_QUOTA, "")

    result = run_check(tmp_path, baseline, "billing", sdl)

    assert result.exit_code == 1
    assert "Field Plan.experimentQuota was removed." in result.stdout
    assert "PlanCatalogue (schema/operations/billing.graphql:" in result.stdout
    assert "Result: FAILED (exit 1)" in result.stdout


def test_github_format_annotates_operation(tmp_path: Path, baseline: Path) -> None:
    sdl = edit_block(load_subgraph_sdl("billing"), "type Plan", EXPERIMENT_QUOTA, "")

    result = run_check(tmp_path, baseline, "billing", sdl, "--format", "github")

    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    # One annotation per operation that reads the field: the frontends' and the edge Worker's.
    assert len(errors) == 3
    catalogue = next(error for error in errors if "Operation PlanCatalogue uses it." in error)
    assert catalogue.startswith("::error file=schema/operations/billing.graphql,line=3,title=Breaking change FIELD_REMOVED::")
    assert any(error.startswith("::error file=deploy/edge/operations/plans.graphql,") for error in errors)
    assert any(error.startswith("::error file=deploy/edge/operations/plan_by_code.graphql,") for error in errors)


def test_unchanged_code_passes(tmp_path: Path, baseline: Path) -> None:
    exit_code, report = check_json(tmp_path, baseline, "users", load_subgraph_sdl("users"))

    assert exit_code == 0, report["failures"]
    assert report["changes"] == []
    assert report["operations"]["persisted"] >= 12
    assert report["operations"]["invalid"] == []


# -- composition failures ------------------------------------------------------------------------


def test_syntax_error_is_composition_failure(tmp_path: Path, baseline: Path) -> None:
    sdl = load_subgraph_sdl("labs").replace("type Query {", "type Query {\n  broken(: Int\n", 1)

    exit_code, report = check_json(tmp_path, baseline, "labs", sdl)

    assert exit_code == 2
    errors = report["composition"]["errors"]
    assert [error["code"] for error in errors] == ["INVALID_GRAPHQL"]
    assert errors[0]["subgraph"] == "labs"
    assert errors[0]["line"] is not None


def test_conflicting_field_is_composition_failure(tmp_path: Path, baseline: Path) -> None:
    # users owns `User.email: String!`; labs now declares it too, with another type and without @shareable.
    sdl = edit_block(load_subgraph_sdl("labs"), "type User", "  id: ID!\n", "  id: ID!\n  email: Int!\n")

    exit_code, report = check_json(tmp_path, baseline, "labs", sdl)

    assert exit_code == 2
    errors = {error["code"]: error for error in report["composition"]["errors"]}
    assert set(errors) == {"FIELD_TYPE_MISMATCH", "INVALID_FIELD_SHARING"}
    mismatch = errors["FIELD_TYPE_MISMATCH"]
    assert "User.email" in mismatch["message"]
    assert {location["subgraph"] for location in mismatch["locations"]} == {"labs", "users"}
    assert mismatch["subgraph"] == "labs"
    assert sdl.splitlines()[mismatch["line"] - 1].strip() == "email: Int!"
    assert report["changes"] == []


def test_composition_failure_github_annotation_points_at_sdl(tmp_path: Path, baseline: Path) -> None:
    sdl = load_subgraph_sdl("labs").replace("type Query {", "type Query {\n  broken(: Int\n", 1)

    result = run_check(tmp_path, baseline, "labs", sdl, "--format", "github")

    assert result.exit_code == 2
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"::error file={tmp_path / 'labs.graphql'},line=")
    assert "title=INVALID_GRAPHQL::" in line


# -- usage errors ----------------------------------------------------------------------------------


def test_unknown_subgraph_is_usage_error(tmp_path: Path, baseline: Path) -> None:
    result = run_check(tmp_path, baseline, "payments", "type Query { a: Int }")

    assert result.exit_code == 3
    assert "unknown subgraph 'payments'" in result.stderr


def test_subgraph_without_sdl_is_usage_error() -> None:
    result = CliRunner().invoke(cli, ["schema", "check", "--subgraph", "users"])

    assert result.exit_code == 3
    assert "--subgraph and --sdl go together" in result.stderr


def test_unknown_option_is_usage_error() -> None:
    result = CliRunner().invoke(cli, ["schema", "check", "--no-such-option"])

    assert result.exit_code == 3


def test_unknown_lint_rule_is_usage_error(tmp_path: Path, baseline: Path) -> None:
    config = tmp_path / "lint.toml"
    config.write_text('[tool.labs64.schema-lint.rules]\nno-such-rule = "error"\n')

    result = run_check(tmp_path, baseline, "users", load_subgraph_sdl("users"), "--lint-config", str(config))

    assert result.exit_code == 3
    assert "unknown lint rule 'no-such-rule'" in result.stderr


def test_lint_error_fails_check(tmp_path: Path, baseline: Path) -> None:
    sdl = edit_block(load_subgraph_sdl("billing"), "type Plan", "  name: String!\n", '  name: String!\n  old_name: String @deprecated\n')

    exit_code, report = check_json(tmp_path, baseline, "billing", sdl)

    assert exit_code == 1
    rules = {violation["rule"] for violation in report["lint"] if violation["severity"] == "error"}
    assert rules == {"field-names-camel-case", "deprecation-reason"}


def test_committed_manifest_is_up_to_date() -> None:
    result = CliRunner().invoke(cli, ["schema", "manifest", "--check"])

    assert result.exit_code == 0, result.output
