"""``labs64 schema check``: does a proposed schema compose, what does it change, and which operations break.

The check composes the subgraphs, one of them possibly replaced by a proposed SDL file. It diffs the
new API schema against a baseline, which is the last published version in the registry or, when no
registry is reachable, the committed supergraph. It maps every breaking change to the client
operations that use the changed element, validates every operation against the new API schema,
and lints the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from graphql import GraphQLSchema

from labs64.settings import REPOSITORY_ROOT, SUBGRAPH_NAMES, PlatformSettings
from schema.api import api_schema_from_supergraph
from schema.changes import ChangeSeverity, SchemaChange, diff_schemas
from schema.composition import CompositionError, SubgraphSource, collect_subgraphs, compose
from schema.documents import (
    OperationDocument,
    OperationSet,
    ValidationProblem,
    operation_coordinates,
    parse_operation_file,
    validate_operation,
)
from schema.lint import LintConfig, LintSeverity, LintViolation, lint_schema
from schema.manifest import load_manifest
from schema.usage import UsageStore

__all__ = [
    "COMMITTED_SUPERGRAPH",
    "Baseline",
    "CheckOptions",
    "CheckReport",
    "CheckUsageError",
    "ExitCode",
    "ProposedSubgraph",
    "OperationImpact",
    "ChangeImpact",
    "analyse",
    "load_operations",
    "run_check",
    "subgraph_sources",
]

#: The supergraph committed with the code, the baseline when no registry is reachable.
COMMITTED_SUPERGRAPH = REPOSITORY_ROOT / "schema" / "supergraph.graphql"

Progress = Callable[[str], None]


class ExitCode(IntEnum):
    """Exit statuses of ``labs64 schema check`` (and ``publish``)."""

    PASSED = 0
    """Composes, no operation breaks, no lint error."""
    FAILED = 1
    """A breaking change breaks a known operation, an operation is invalid, or a lint rule failed."""
    COMPOSITION_FAILED = 2
    """The subgraphs do not compose."""
    USAGE_ERROR = 3
    """Bad options or input files: an unknown subgraph, a missing file, an invalid configuration."""
    TOOL_ERROR = 4
    """The tooling could not run: Node.js missing, the composition tool crashed."""


class CheckUsageError(ValueError):
    """The check was started with invalid options or input files; the message names the value and the fix."""


@dataclass(frozen=True)
class ProposedSubgraph:
    """A subgraph SDL proposed in place of the one generated from code."""

    name: str
    sdl: str
    #: The SDL file as the user named it, for locations in reports.
    path: str


@dataclass(frozen=True)
class Baseline:
    """The supergraph the proposal is compared with, and where it came from."""

    supergraph_sdl: str
    #: For example "registry version 4" or "file schema/supergraph.graphql".
    description: str
    #: Why the registry was not used, when it was tried and not reachable.
    note: str | None = None


@dataclass(frozen=True)
class OperationImpact:
    """One operation whose result is affected: why, and the validation errors against the new schema."""

    operation: OperationDocument
    problems: tuple[ValidationProblem, ...] = ()

    def as_dict(self) -> dict[str, object]:
        operation = self.operation
        return {
            "name": operation.name,
            "id": operation.id,
            "origin": operation.origin,
            "file": operation.file,
            "line": operation.line,
            "errors": [problem.message for problem in self.problems],
        }


@dataclass(frozen=True)
class ChangeImpact:
    """A schema change and the operations it affects."""

    change: SchemaChange
    operations: tuple[OperationImpact, ...] = ()

    @property
    def fails(self) -> bool:
        return self.change.severity is ChangeSeverity.BREAKING and bool(self.operations)

    def as_dict(self) -> dict[str, object]:
        return {**self.change.as_dict(), "operations": [impact.as_dict() for impact in self.operations]}


@dataclass
class CheckOptions:
    """Inputs of one check."""

    proposed: ProposedSubgraph | None = None
    baseline_path: Path | None = None
    use_registry: bool = True
    manifest_path: Path | None = None
    #: Further ``.graphql`` files of persisted operations, such as those the edge Worker caches.
    operation_files: list[Path] = field(default_factory=list)
    usage_paths: list[Path] = field(default_factory=list)
    lint_config: LintConfig = field(default_factory=LintConfig)
    #: Fail on every breaking change, even one that no known operation uses.
    strict: bool = False


@dataclass
class CheckReport:
    """Everything one check found, and the exit code it leads to."""

    subgraphs: list[str]
    proposed: ProposedSubgraph | None = None
    composition_errors: list[CompositionError] = field(default_factory=list)
    baseline: Baseline | None = None
    changes: list[ChangeImpact] = field(default_factory=list)
    operation_count: dict[str, int] = field(default_factory=dict)
    #: Operations that are not valid against the new API schema.
    invalid_operations: list[OperationImpact] = field(default_factory=list)
    lint: list[LintViolation] = field(default_factory=list)
    strict: bool = False

    @property
    def exit_code(self) -> ExitCode:
        if self.composition_errors:
            return ExitCode.COMPOSITION_FAILED
        if self.failures():
            return ExitCode.FAILED
        return ExitCode.PASSED

    def failures(self) -> list[str]:
        """Return one sentence per reason the check fails."""
        reasons = []
        if self.composition_errors:
            reasons.append(f"{len(self.composition_errors)} composition error(s)")
        breaking = [impact for impact in self.changes if impact.change.severity is ChangeSeverity.BREAKING]
        failing = [impact for impact in breaking if impact.fails]
        if failing:
            names = sorted({o.operation.name for impact in failing for o in impact.operations})
            reasons.append(f"{len(failing)} breaking change(s) affect operation(s) {', '.join(names)}")
        if self.strict and len(breaking) > len(failing):
            reasons.append(f"{len(breaking) - len(failing)} breaking change(s) that no known operation uses (--strict)")
        # Operations that a failing change already names are not counted twice.
        explained = {o.operation.id for impact in failing for o in impact.operations}
        unexplained = sorted({i.operation.name for i in self.invalid_operations if i.operation.id not in explained})
        if unexplained:
            reasons.append(f"{len(unexplained)} operation(s) invalid against the new schema: {', '.join(unexplained)}")
        lint_errors = [v for v in self.lint if v.severity is LintSeverity.ERROR]
        if lint_errors:
            reasons.append(f"{len(lint_errors)} lint error(s)")
        return reasons


def subgraph_sources(settings: PlatformSettings, proposed: ProposedSubgraph | None) -> list[SubgraphSource]:
    """Load the subgraphs from code, with ``proposed`` in place of its namesake."""
    if proposed is not None and proposed.name not in SUBGRAPH_NAMES:
        raise CheckUsageError(f"unknown subgraph {proposed.name!r} for --subgraph; known subgraphs: {', '.join(SUBGRAPH_NAMES)}")
    sources = collect_subgraphs(settings)
    if proposed is None:
        return sources
    return [
        SubgraphSource(name=source.name, url=source.url, sdl=proposed.sdl) if source.name == proposed.name else source
        for source in sources
    ]


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPOSITORY_ROOT))
    except ValueError:
        return str(path)


def load_operations(options: CheckOptions) -> tuple[list[OperationDocument], dict[str, int]]:
    """Collect the operations a change must not break, once each, and count them by source."""
    operations = OperationSet()
    persisted = load_manifest(options.manifest_path) if options.manifest_path is not None else []
    for path in options.operation_files:
        persisted.extend(parse_operation_file(path, _display_path(path)))
    for operation in persisted:
        operations.add(operation)
    recorded = 0
    for path in options.usage_paths:
        for record in UsageStore(path).load():
            operations.add(record.as_operation())
            recorded += 1
    return list(operations), {"persisted": len(persisted), "recorded": recorded, "total": len(operations)}


def analyse(
    old: GraphQLSchema,
    new: GraphQLSchema,
    operations: list[OperationDocument],
) -> tuple[list[ChangeImpact], list[OperationImpact]]:
    """Diff ``old`` against ``new`` and attach to each change the operations it affects.

    Returns the changes, and the operations that are invalid against ``new``. An operation is
    affected by a change when it uses every coordinate the change requires, in either schema.
    """
    coordinates = {operation.id: operation_coordinates(operation, [old, new]) for operation in operations}
    problems = {operation.id: tuple(validate_operation(operation, new)) for operation in operations}

    impacts = []
    for change in diff_schemas(old, new):
        affected = tuple(
            OperationImpact(operation, problems[operation.id])
            for operation in operations
            if change.affects(coordinates[operation.id])
        )
        impacts.append(ChangeImpact(change, affected))

    invalid = [OperationImpact(operation, problems[operation.id]) for operation in operations if problems[operation.id]]
    return impacts, invalid


def run_check(
    settings: PlatformSettings,
    options: CheckOptions,
    load_baseline: Callable[[], Baseline],
    progress: Progress,
) -> CheckReport:
    """Run the whole check; composition errors end it early with exit code 2."""
    sources = subgraph_sources(settings, options.proposed)
    report = CheckReport(subgraphs=[source.name for source in sources], proposed=options.proposed, strict=options.strict)

    progress(f"schema check: composing {len(sources)} subgraphs ...")
    result = compose(sources, progress=progress)
    if not result.ok:
        report.composition_errors = list(result.errors)
        return report
    new_schema = api_schema_from_supergraph(result.require_supergraph_sdl(), "the composed supergraph")

    report.baseline = load_baseline()
    old_schema = api_schema_from_supergraph(report.baseline.supergraph_sdl, report.baseline.description)

    operations, report.operation_count = load_operations(options)
    progress(f"schema check: diffing against {report.baseline.description}, checking {len(operations)} operations ...")
    report.changes, report.invalid_operations = analyse(old_schema, new_schema, operations)
    report.lint = lint_schema(new_schema, options.lint_config)
    return report
