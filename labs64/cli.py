"""The `labs64` command line: one entry point for the whole platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import click

from labs64.errors import PlatformError
from labs64.settings import get_settings

__all__ = ["main", "cli"]


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Run and operate the Labs64.IO federation platform locally.

    Settings come from LABS64_* environment variables; see the README for the list.
    """
    os.environ.setdefault("APOLLO_TELEMETRY_DISABLED", "true")


@cli.command()
@click.option("--no-build", is_flag=True, help="Fail instead of building the Apollo Router when its binary is missing.")
def up(no_build: bool) -> None:
    """Start every component and wait until all are healthy (safe to run again)."""
    from labs64.platform import Platform

    platform = Platform(get_settings(), _progress)
    seconds = platform.up(build_router=not no_build)
    click.echo(f"Platform up in {seconds:.1f} s.")
    _print_status(platform.status())


@cli.command()
def down() -> None:
    """Stop every component started by `up`; data is kept."""
    from labs64.platform import Platform

    stopped = Platform(get_settings(), _progress).down()
    click.echo("Platform stopped." if stopped else "Platform was not running.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status(as_json: bool) -> None:
    """Show each component's state, URL, process id and health."""
    from labs64.platform import Platform

    statuses = Platform(get_settings(), _progress).status()
    if as_json:
        click.echo(json.dumps({"components": [s.as_dict() for s in statuses]}, indent=2))
    else:
        _print_status(statuses)
    if not all(s.healthy for s in statuses):
        sys.exit(3)


def _print_status(statuses: list) -> None:
    click.echo(f"{'COMPONENT':<16} {'STATE':<9} {'PID':>7}  {'HEALTH':<9} URL")
    for s in statuses:
        health = "healthy" if s.healthy else "unhealthy"
        click.echo(f"{s.name:<16} {s.state:<9} {s.pid or '-':>7}  {health:<9} {s.url}")


@cli.command()
@click.argument("component", required=False)
@click.option("-n", "--lines", default=50, show_default=True, help="Number of lines to show from the end of each log.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until interrupted.")
def logs(component: str | None, lines: int, follow: bool) -> None:
    """Show the logs of one component, or of all of them."""
    settings = get_settings()
    # supervisord writes one `<component>.log` per program into the log directory, so the files
    # themselves list the components, supervisord included.
    available = {path.stem: path for path in sorted(settings.log_dir.glob("*.log"))}
    if not available:
        raise click.ClickException(f"No logs yet under {settings.log_dir}; start the platform with `labs64 up`.")
    if component is not None and component not in available:
        raise click.BadParameter(f"no log for component {component!r} under {settings.log_dir}; choose one of {', '.join(available)}")
    existing = [str(available[component])] if component else [str(path) for path in available.values()]
    command = ["tail", "-n", str(lines), *(["-F"] if follow else []), *existing]
    sys.exit(subprocess.call(command))


@cli.command()
@click.option("--reset", is_flag=True, help="Delete all module data first, then load the seed data set.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the modules already hold data.")
def seed(reset: bool, if_empty: bool) -> None:
    """Load the deterministic seed data set (1,000 users, 10,000 experiments, 20,000 invoices)."""
    from labs64.seed import has_data, seed_platform

    settings = get_settings()
    if if_empty and not reset and has_data(settings):
        click.echo("Seed skipped: the modules already hold data.")
        return
    started = time.monotonic()
    counts = seed_platform(settings, reset=reset, progress=_progress)
    total = sum(sum(tables.values()) for tables in counts.values())
    click.echo(f"Seeded {total} rows in {time.monotonic() - started:.1f} s: {json.dumps(counts)}")


def _register_groups() -> None:
    from events.cli import events_group
    from deploy.edge.cli import edge_group
    from identity.cli import login, token, whoami
    from router.cli import router_group
    from schema.cli import schema_group

    cli.add_command(schema_group, "schema")
    cli.add_command(router_group, "router")
    cli.add_command(events_group, "events")
    cli.add_command(edge_group, "edge")
    for command in (login, token, whoami):
        cli.add_command(command)


_register_groups()


def main() -> None:
    from identity.errors import IdentityError
    from router.build import RouterBuildError
    from router.process import RouterConfigInvalid
    from schema.composition import CompositionFailed, CompositionToolError

    try:
        cli(standalone_mode=True)
    except (PlatformError, CompositionFailed, CompositionToolError, RouterBuildError, RouterConfigInvalid, IdentityError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
