"""``labs64 schema check``, ``publish``, ``log``, ``diff``, ``manifest`` and ``usage``.

Exit codes (``ExitCode``): 0 passed, 1 failed (a breaking change affects a known operation, an
operation is invalid, a lint error, or a refused publish), 2 composition failed, 3 usage error,
4 the tooling or the registry could not run.
"""

from __future__ import annotations

import difflib
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from labs64.settings import REPOSITORY_ROOT, PlatformSettings, get_settings
from schema.api import ApiSchemaError, api_schema_from_supergraph
from schema.check import (
    COMMITTED_SUPERGRAPH,
    Baseline,
    CheckOptions,
    CheckReport,
    CheckUsageError,
    ExitCode,
    ProposedSubgraph,
    analyse,
    load_operations,
    run_check,
    subgraph_sources,
)
from schema.composition import CompositionToolError, compose, write_supergraph
from schema.lint import LintConfig, LintConfigError
from schema.manifest import DEFAULT_MANIFEST_PATH, OPERATIONS_DIR, ManifestError, collect_operations, render_manifest
from schema.report import FORMATS, render_changes_text, render_report
from schema.usage import UsageError, UsageStore, default_usage_path

if TYPE_CHECKING:
    from schema.registry import SchemaVersion

__all__ = ["COMMANDS"]

_DEFAULT_LINT_CONFIG = REPOSITORY_ROOT / "pyproject.toml"

#: The edge Worker's persisted operations: a schema change must not break them either.
EDGE_OPERATIONS_DIR = REPOSITORY_ROOT / "deploy" / "edge" / "operations"


def _edge_operation_files() -> list[Path]:
    return sorted(EDGE_OPERATIONS_DIR.glob("*.graphql"))


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _fail(message: str, code: ExitCode) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(int(code))


class _SchemaCommand(click.Command):
    """A command whose option errors exit with 3, because click's usual 2 means a composition error here."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            error.exit_code = int(ExitCode.USAGE_ERROR)
            raise


def _proposed(subgraph: str | None, sdl: Path | None) -> ProposedSubgraph | None:
    if subgraph is None and sdl is None:
        return None
    if subgraph is None or sdl is None:
        _fail("--subgraph and --sdl go together: name the subgraph and the SDL file proposed for it", ExitCode.USAGE_ERROR)
    try:
        text = sdl.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"could not read the SDL file {sdl}: {error}", ExitCode.USAGE_ERROR)
    return ProposedSubgraph(name=subgraph, sdl=text, path=str(sdl))


def _registry_or_committed(settings: PlatformSettings, baseline_path: Path | None, use_registry: bool) -> Callable[[], Baseline]:
    """Return a loader of the baseline: a given file, else the registry's newest version, else the committed supergraph."""

    def load() -> Baseline:
        if baseline_path is not None:
            return Baseline(baseline_path.read_text(encoding="utf-8"), f"file {baseline_path}")
        note = None
        if use_registry:
            from schema.registry import RegistryUnavailable, fetch_latest

            try:
                latest = fetch_latest(settings)
            except RegistryUnavailable as error:
                note = f"registry not used: {error}"
            else:
                if latest is not None:
                    return Baseline(
                        latest.supergraph_sdl,
                        f"registry version {latest.version} (published {latest.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by {latest.author})",
                    )
                note = "registry not used: nothing was published yet"
        display = COMMITTED_SUPERGRAPH.relative_to(REPOSITORY_ROOT)
        return Baseline(COMMITTED_SUPERGRAPH.read_text(encoding="utf-8"), f"committed file {display}", note)

    return load


_subgraph_option = click.option("--subgraph", metavar="NAME", help="Subgraph whose SDL is replaced by --sdl (users, labs or billing).")
_sdl_option = click.option(
    "--sdl",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SDL file proposed for --subgraph, instead of the SDL generated from its code.",
)


@click.command("check", cls=_SchemaCommand)
@_subgraph_option
@_sdl_option
@click.option("--baseline", "baseline_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Supergraph file to compare with, instead of the registry's newest version.")
@click.option("--registry/--no-registry", default=True, show_default=True, help="Compare with the registry's newest version when PostgreSQL is reachable; otherwise with the committed schema/supergraph.graphql.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MANIFEST_PATH, show_default=True, help="Persisted-operation manifest whose operations must keep working.")
@click.option("--usage", "usage_paths", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Usage store (JSON lines) of recorded operations; repeatable. Default: the platform's store when it exists.")
@click.option("--lint-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=_DEFAULT_LINT_CONFIG, show_default=True, help="TOML file with a [tool.labs64.schema-lint] table.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format: text, json, or GitHub workflow annotations.")
@click.option(
    "--operations",
    "operation_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A .graphql file of further persisted operations; repeatable. Default: the edge Worker's, in deploy/edge/operations.",
)
@click.option("--strict", is_flag=True, help="Also fail on breaking changes that no known operation uses.")
def check_command(
    subgraph: str | None,
    sdl: Path | None,
    baseline_path: Path | None,
    registry: bool,
    manifest_path: Path,
    operation_files: tuple[Path, ...],
    usage_paths: tuple[Path, ...],
    lint_config: Path,
    output_format: str,
    strict: bool,
) -> None:
    """Check that the subgraphs compose and that no known operation breaks.

    Exit codes: 0 passed, 1 failed, 2 composition failed, 3 usage error, 4 tool error.
    """
    settings = get_settings()
    proposed = _proposed(subgraph, sdl)
    if not usage_paths and default_usage_path(settings).exists():
        usage_paths = (default_usage_path(settings),)

    try:
        options = CheckOptions(
            proposed=proposed,
            baseline_path=baseline_path,
            use_registry=registry,
            manifest_path=manifest_path,
            operation_files=list(operation_files) or _edge_operation_files(),
            usage_paths=list(usage_paths),
            lint_config=LintConfig.load(lint_config),
            strict=strict,
        )
        report = run_check(settings, options, _registry_or_committed(settings, baseline_path, registry), _progress)
    except (CheckUsageError, LintConfigError, ManifestError, UsageError, ApiSchemaError) as error:
        _fail(str(error), ExitCode.USAGE_ERROR)
    except CompositionToolError as error:
        _fail(str(error), ExitCode.TOOL_ERROR)

    click.echo(render_report(report, output_format))
    sys.exit(int(report.exit_code))


@click.command("publish", cls=_SchemaCommand)
@_subgraph_option
@_sdl_option
@click.option("-m", "--message", default="", help="Note stored with the version, such as the change's summary.")
@click.option("--author", default=None, help="Who publishes. Default: the current user name.")
@click.option("--force", is_flag=True, help="Publish even when a breaking change affects a known operation.")
@click.option("--rollout/--no-rollout", default=True, show_default=True, help="Write the new supergraph to the router's supergraph file, which it hot-reloads.")
def publish_command(subgraph: str | None, sdl: Path | None, message: str, author: str | None, force: bool, rollout: bool) -> None:
    """Compose, record a new version in the registry, and roll it out to the router.

    Exit codes: 0 published (or identical to the newest version), 1 refused because operations
    would break, 2 composition failed, 3 usage error, 4 the registry or the tooling is unavailable.
    """
    from schema.registry import RegistryError, fetch_latest, migrate_registry, publish_version

    settings = get_settings()
    proposed = _proposed(subgraph, sdl)
    try:
        sources = subgraph_sources(settings, proposed)
        result = compose(sources, progress=_progress)
    except CheckUsageError as error:
        _fail(str(error), ExitCode.USAGE_ERROR)
    except CompositionToolError as error:
        _fail(str(error), ExitCode.TOOL_ERROR)
    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        _fail(f"composition failed with {len(result.errors)} error(s); nothing was published", ExitCode.COMPOSITION_FAILED)
    supergraph_sdl = result.require_supergraph_sdl()

    try:
        migrate_registry(settings)
        latest = fetch_latest(settings)
        _refuse_breaking_publish(settings, supergraph_sdl, latest.supergraph_sdl if latest else None, force)
        version, created = publish_version(settings, supergraph_sdl, sources, author or getpass.getuser(), message)
    except RegistryError as error:
        _fail(str(error), ExitCode.TOOL_ERROR)

    if created:
        click.echo(f"published schema version {version.version} ({len(sources)} subgraphs, supergraph {version.supergraph_sha256[:12]})")
    else:
        click.echo(f"schema version {version.version} already has this supergraph; nothing new was published")
    if rollout:
        # NOTE: the local platform runs one router, which serves settings.supergraph_path. Routers
        # on other hosts would have to pull the newest version from the registry themselves.
        path = write_supergraph(supergraph_sdl, settings.supergraph_path)
        click.echo(f"rolled out to {path}; a router started with --hot-reload serves it within seconds")


def _refuse_breaking_publish(settings: PlatformSettings, new_sdl: str, latest_sdl: str | None, force: bool) -> None:
    """Exit with 1 when the new supergraph breaks an operation that the previous one served."""
    old_sdl = latest_sdl if latest_sdl is not None else COMMITTED_SUPERGRAPH.read_text(encoding="utf-8")
    usage = default_usage_path(settings)
    operations, _ = load_operations(
        CheckOptions(
            manifest_path=DEFAULT_MANIFEST_PATH if DEFAULT_MANIFEST_PATH.exists() else None,
            operation_files=_edge_operation_files(),
            usage_paths=[usage] if usage.exists() else [],
        )
    )

    impacts, invalid = analyse(api_schema_from_supergraph(old_sdl), api_schema_from_supergraph(new_sdl), operations)
    report = CheckReport(subgraphs=[], changes=impacts, invalid_operations=invalid)
    failures = report.failures()
    if failures and not force:
        for line in render_changes_text([impact for impact in impacts if impact.fails]):
            click.echo(line, err=True)
        _fail("publish refused: " + "; ".join(failures) + ". Fix the operations or publish with --force", ExitCode.FAILED)
    for failure in failures:
        click.echo(f"warning: publishing despite: {failure} (--force)", err=True)


@click.command("log", cls=_SchemaCommand)
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Number of versions to show, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def log_command(limit: int, as_json: bool) -> None:
    """Show the published schema versions, newest first."""
    from schema.registry import RegistryError, fetch_history

    settings = get_settings()
    try:
        # One more than shown, so that the changed subgraphs of the oldest shown version are known too.
        versions = fetch_history(settings, limit + 1)
    except RegistryError as error:
        _fail(str(error), ExitCode.TOOL_ERROR)

    rows = []
    for index, version in enumerate(versions[:limit]):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        changed = _changed_subgraphs(version, previous)
        rows.append((version, changed))

    if as_json:
        click.echo(json.dumps([
            {
                "version": version.version,
                "created_at": version.created_at.isoformat(),
                "author": version.author,
                "message": version.message,
                "supergraph_sha256": version.supergraph_sha256,
                "subgraphs": [subgraph.name for subgraph in version.subgraphs],
                "changed_subgraphs": changed,
            }
            for version, changed in rows
        ], indent=2))
        return
    if not rows:
        click.echo("No schema version published yet; publish one with `labs64 schema publish`.")
        return
    click.echo(f"{'VERSION':>7}  {'PUBLISHED (UTC)':<16}  {'AUTHOR':<12} {'SUPERGRAPH':<12} {'CHANGED':<20} MESSAGE")
    for version, changed in rows:
        published = version.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{version.version:>7}  {published:<16}  {version.author[:12]:<12} {version.supergraph_sha256[:12]:<12} "
            f"{','.join(changed) or '-':<20} {version.message}"
        )


def _changed_subgraphs(version: SchemaVersion, previous: SchemaVersion | None) -> list[str]:
    if previous is None:
        return [subgraph.name for subgraph in version.subgraphs]
    changed = []
    for subgraph in version.subgraphs:
        before = previous.subgraph(subgraph.name)
        if before is None or before.sdl_sha256 != subgraph.sdl_sha256:
            changed.append(subgraph.name)
    return changed


@click.command("diff", cls=_SchemaCommand)
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True, help="Output format.")
@click.option("--unified", is_flag=True, help="Also print the unified diff of every subgraph SDL that changed.")
def diff_command(old: int, new: int, output_format: str, unified: bool) -> None:
    """Show what changed between two published versions OLD and NEW."""
    from schema.registry import RegistryError, VersionNotFound, fetch_version

    settings = get_settings()
    try:
        old_version = fetch_version(settings, old)
        new_version = fetch_version(settings, new)
    except VersionNotFound as error:
        _fail(str(error), ExitCode.USAGE_ERROR)
    except RegistryError as error:
        _fail(str(error), ExitCode.TOOL_ERROR)

    # The persisted operations of today, the frontends' and the edge's, show which each change affects.
    operations, _ = load_operations(
        CheckOptions(
            manifest_path=DEFAULT_MANIFEST_PATH if DEFAULT_MANIFEST_PATH.exists() else None,
            operation_files=_edge_operation_files(),
        )
    )
    impacts, _invalid = analyse(
        api_schema_from_supergraph(old_version.supergraph_sdl, f"version {old}"),
        api_schema_from_supergraph(new_version.supergraph_sdl, f"version {new}"),
        operations,
    )
    names = sorted({s.name for s in old_version.subgraphs} | {s.name for s in new_version.subgraphs})
    sdl_diffs = {}
    for name in names:
        before = old_version.subgraph(name)
        after = new_version.subgraph(name)
        if before is None or after is None or before.sdl_sha256 != after.sdl_sha256:
            sdl_diffs[name] = "".join(
                difflib.unified_diff(
                    (before.sdl if before else "").splitlines(keepends=True),
                    (after.sdl if after else "").splitlines(keepends=True),
                    fromfile=f"v{old}/{name}.graphql",
                    tofile=f"v{new}/{name}.graphql",
                )
            )

    if output_format == "json":
        click.echo(json.dumps({
            "old": old,
            "new": new,
            "changed_subgraphs": sorted(sdl_diffs),
            "changes": [impact.as_dict() for impact in impacts],
            **({"unified": sdl_diffs} if unified else {}),
        }, indent=2))
        return
    click.echo(f"Schema version {old} -> {new}: subgraphs changed: {', '.join(sorted(sdl_diffs)) or 'none'}")
    click.echo(f"Changes: {len(impacts)}")
    for line in render_changes_text(impacts):
        click.echo(line)
    if unified:
        for text in sdl_diffs.values():
            click.echo(text, nl=False)


@click.command("manifest", cls=_SchemaCommand)
@click.option("--check", "verify", is_flag=True, help="Exit with 1 when the manifest is not up to date, instead of writing it.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MANIFEST_PATH, show_default=True, help="Manifest file to write or check.")
def manifest_command(verify: bool, output: Path) -> None:
    """Write the persisted-operation manifest from schema/operations/*.graphql."""
    from schema.composition import write_text_atomic

    try:
        operations = collect_operations(OPERATIONS_DIR)
    except ManifestError as error:
        _fail(str(error), ExitCode.USAGE_ERROR)
    text = render_manifest(operations)
    if verify:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            _fail(f"{output} is out of date with {OPERATIONS_DIR}; regenerate it with `labs64 schema manifest`", ExitCode.FAILED)
        click.echo(f"{output} is up to date ({len(operations)} operations)")
        return
    write_text_atomic(output, text)
    click.echo(f"wrote {len(operations)} operations to {output}")


@click.group("usage")
def usage_group() -> None:
    """Record and list the operations clients send."""


@usage_group.command("record", cls=_SchemaCommand)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--client", default="unknown", show_default=True, help="Name of the client that sent the operations, such as 'web'.")
@click.option("--count", default=1, show_default=True, type=click.IntRange(min=1), help="Number of times each operation was seen.")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Usage store to append to. Default: <data dir>/schema/operation-usage.jsonl.")
def usage_record_command(files: tuple[Path, ...], client: str, count: int, store: Path | None) -> None:
    """Record the named operations in FILES as seen, with the fields they use in the committed schema."""
    from schema.documents import OperationParseError, parse_operation_file

    settings = get_settings()
    path = store or default_usage_path(settings)
    try:
        operations = [operation for file in files for operation in parse_operation_file(file)]
    except OperationParseError as error:
        _fail(str(error), ExitCode.USAGE_ERROR)
    schema = api_schema_from_supergraph(COMMITTED_SUPERGRAPH.read_text(encoding="utf-8"))
    written = UsageStore(path).record(operations, schema, client=client, count=count)
    click.echo(f"recorded {written} operation(s) from client {client!r} in {path}")


@usage_group.command("list", cls=_SchemaCommand)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Usage store to read. Default: <data dir>/schema/operation-usage.jsonl.")
def usage_list_command(store: Path | None) -> None:
    """List the recorded operations with their hash, clients and count."""
    path = store or default_usage_path(get_settings())
    try:
        records = UsageStore(path).load()
    except UsageError as error:
        _fail(str(error), ExitCode.USAGE_ERROR)
    if not records:
        click.echo(f"No operations recorded in {path}.")
        return
    for record in records:
        click.echo(f"{record.hash[:12]}  {record.name:<24} {record.count:>6}  {','.join(sorted(record.clients))}  {record.last_seen}")


COMMANDS = (check_command, publish_command, log_command, diff_command, manifest_command, usage_group)
