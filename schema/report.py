"""Render a schema check report as text for people, JSON for tools, or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Iterator

from schema.changes import ChangeSeverity
from schema.check import ChangeImpact, CheckReport, OperationImpact
from schema.composition import CompositionError
from schema.lint import LintSeverity

__all__ = ["FORMATS", "render_report", "render_changes_text"]

FORMATS = ("text", "json", "github")


def render_report(report: CheckReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(_as_dict(report), indent=2)
    if output_format == "github":
        return "\n".join(_github_lines(report))
    return "\n".join(_text_lines(report))


# -- text ---------------------------------------------------------------------------------------


def _operation_label(impact: OperationImpact) -> str:
    operation = impact.operation
    return f"{operation.name} ({operation.location})"


def render_changes_text(changes: list[ChangeImpact]) -> Iterator[str]:
    """Yield one line per change, and under breaking and dangerous ones the operations they affect."""
    for impact in changes:
        change = impact.change
        yield f"  {change.severity.value.upper():<9} {change.kind:<32} {change.message}"
        if change.severity is ChangeSeverity.SAFE:
            continue
        if impact.operations:
            verb = "breaks" if change.severity is ChangeSeverity.BREAKING else "may affect"
            yield f"            {verb} {len(impact.operations)} operation(s):"
            for operation in impact.operations:
                yield f"              - {_operation_label(operation)}"
        elif change.severity is ChangeSeverity.BREAKING:
            yield "            no known operation uses it"


def _composition_lines(errors: list[CompositionError]) -> Iterator[str]:
    yield f"Composition: FAILED with {len(errors)} error(s)"
    for error in errors:
        yield f"  {error}"


def _text_lines(report: CheckReport) -> Iterator[str]:
    if report.proposed is not None:
        yield f"Proposed: subgraph {report.proposed.name} from {report.proposed.path}"
    if report.composition_errors:
        yield from _composition_lines(report.composition_errors)
        yield f"Result: FAILED (exit {int(report.exit_code)}): the subgraphs do not compose"
        return

    yield f"Composition: ok ({', '.join(report.subgraphs)})"
    assert report.baseline is not None
    yield f"Baseline: {report.baseline.description}"
    if report.baseline.note:
        yield f"  ({report.baseline.note})"

    counts = {severity: sum(1 for c in report.changes if c.change.severity is severity) for severity in ChangeSeverity}
    yield (
        f"Changes: {counts[ChangeSeverity.BREAKING]} breaking, {counts[ChangeSeverity.DANGEROUS]} dangerous, "
        f"{counts[ChangeSeverity.SAFE]} safe"
    )
    yield from render_changes_text(report.changes)

    count = report.operation_count
    yield (
        f"Operations: {count.get('total', 0)} checked ({count.get('persisted', 0)} persisted, "
        f"{count.get('recorded', 0)} recorded), {len(report.invalid_operations)} invalid against the new schema"
    )
    for impact in report.invalid_operations:
        yield f"  {_operation_label(impact)}"
        for problem in impact.problems:
            yield f"    {problem.message}"

    errors = sum(1 for v in report.lint if v.severity is LintSeverity.ERROR)
    yield f"Lint: {errors} error(s), {len(report.lint) - errors} warning(s)"
    for violation in report.lint:
        yield f"  {violation.severity.value:<7} {violation.rule:<24} {violation.message}"

    failures = report.failures()
    if failures:
        yield f"Result: FAILED (exit {int(report.exit_code)}): " + "; ".join(failures)
    else:
        yield "Result: PASSED (exit 0)"


# -- JSON ---------------------------------------------------------------------------------------


def _composition_error_dict(error: CompositionError) -> dict[str, object]:
    return {
        "code": error.code,
        "message": error.message,
        "subgraph": error.subgraph,
        "line": error.line,
        "column": error.column,
        "locations": [{"subgraph": s, "line": line, "column": column} for s, line, column in error.locations],
    }


def _as_dict(report: CheckReport) -> dict[str, object]:
    return {
        "result": "passed" if report.exit_code == 0 else "failed",
        "exit_code": int(report.exit_code),
        "failures": report.failures(),
        "subgraphs": report.subgraphs,
        "proposed": None if report.proposed is None else {"subgraph": report.proposed.name, "sdl": report.proposed.path},
        "composition": {
            "ok": not report.composition_errors,
            "errors": [_composition_error_dict(error) for error in report.composition_errors],
        },
        "baseline": None
        if report.baseline is None
        else {"source": report.baseline.description, "note": report.baseline.note},
        "changes": [impact.as_dict() for impact in report.changes],
        "operations": {
            **report.operation_count,
            "invalid": [impact.as_dict() for impact in report.invalid_operations],
        },
        "lint": [violation.as_dict() for violation in report.lint],
    }


# -- GitHub annotations -------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    # Workflow commands end at a newline, so the message's own newlines and percent signs are encoded.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(level: str, message: str, *, file: str | None = None, line: int | None = None, column: int | None = None, title: str | None = None) -> str:
    properties = []
    if file:
        properties.append(f"file={_escape_property(file)}")
    if line:
        properties.append(f"line={line}")
    if column:
        properties.append(f"col={column}")
    if title:
        properties.append(f"title={_escape_property(title)}")
    joined = " " + ",".join(properties) if properties else ""
    return f"::{level}{joined}::{_escape_data(message)}"


def _composition_annotation(report: CheckReport, error: CompositionError) -> str:
    proposed = report.proposed
    if proposed is not None and error.subgraph == proposed.name:
        return _annotation("error", error.message, file=proposed.path, line=error.line, column=error.column, title=error.code)
    location = f" (SDL line {error.line})" if error.line else ""
    file = f"subgraphs/{error.subgraph}/schema.py" if error.subgraph else None
    return _annotation("error", f"{error.message}{location}", file=file, title=error.code)


def _github_lines(report: CheckReport) -> Iterator[str]:
    for error in report.composition_errors:
        yield _composition_annotation(report, error)
    if report.composition_errors:
        return

    for impact in report.changes:
        change = impact.change
        if change.severity is ChangeSeverity.SAFE:
            continue
        if not impact.operations:
            if change.severity is ChangeSeverity.BREAKING:
                yield _annotation("warning", f"{change.message} No known operation uses it.", title=f"Breaking change {change.kind}")
            continue
        level = "error" if change.severity is ChangeSeverity.BREAKING else "warning"
        for operation in impact.operations:
            details = "; ".join(problem.message for problem in operation.problems)
            suffix = f" {details}" if details else ""
            yield _annotation(
                level,
                f"{change.message} Operation {operation.operation.name} uses it.{suffix}",
                file=operation.operation.file,
                line=operation.operation.line,
                title=f"{change.severity.value.capitalize()} change {change.kind}",
            )

    affected = {o.operation.id for impact in report.changes if impact.fails for o in impact.operations}
    for impact in report.invalid_operations:
        if impact.operation.id in affected:
            continue
        yield _annotation(
            "error",
            f"Operation {impact.operation.name} is invalid against the new schema: "
            + "; ".join(problem.message for problem in impact.problems),
            file=impact.operation.file,
            line=impact.operation.line,
            title="Invalid operation",
        )

    for violation in report.lint:
        level = "error" if violation.severity is LintSeverity.ERROR else "warning"
        yield _annotation(level, f"{violation.coordinate}: {violation.message}", title=f"Schema lint {violation.rule}")

    failures = report.failures()
    summary = "Schema check failed: " + "; ".join(failures) if failures else "Schema check passed."
    yield _annotation("notice", summary, title="Schema check")
