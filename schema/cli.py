"""``labs64 schema``: compose, check, publish and inspect the supergraph the router serves."""

from __future__ import annotations

from pathlib import Path

import click

from labs64.settings import get_settings
from schema.composition import (
    CompositionToolError,
    collect_subgraphs,
    compose,
    write_supergraph,
)

__all__ = ["schema_group"]


def _echo_progress(message: str) -> None:
    click.echo(message, err=True)


@click.group("schema")
def schema_group() -> None:
    """Compose, check and publish the federated supergraph schema."""


@schema_group.command("compose")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="File to write the supergraph SDL to. Default: the supergraph path from the settings.",
)
def compose_command(output: Path | None) -> None:
    """Compose every subgraph's SDL (read from code) and write the supergraph.

    On a composition error the previous supergraph file is left untouched, so a running router
    keeps serving it, and the command exits with status 1.
    """
    settings = get_settings()
    path = output if output is not None else settings.supergraph_path

    try:
        sources = collect_subgraphs(settings)
    except (ImportError, AttributeError, TypeError) as error:
        raise click.ClickException(f"could not load a subgraph schema: {error}") from error

    try:
        result = compose(sources, progress=_echo_progress)
    except CompositionToolError as error:
        raise click.ClickException(str(error)) from error

    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        click.echo(
            f"composition failed with {len(result.errors)} error(s); {path} was not changed",
            err=True,
        )
        raise SystemExit(1)

    for hint in result.hints:
        click.echo(f"hint {hint.code}: {hint.message}", err=True)

    write_supergraph(result.require_supergraph_sdl(), path)
    click.echo(f"supergraph written to {path} ({len(sources)} subgraphs)")


def _register_commands() -> None:
    # The check, publish and registry commands live in their own module to keep this one short.
    from schema import commands

    for command in commands.COMMANDS:
        schema_group.add_command(command)


_register_commands()
