"""``labs64 router``: build the Apollo Router and generate its configuration."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from pydantic import ValidationError

from labs64.settings import get_settings
from router.build import RouterBuildError, build_router, router_binary_path
from router.config import RouterConfig, write_router_config
from router.process import RouterConfigInvalid, validate_config

__all__ = ["router_group"]


def _echo_progress(message: str) -> None:
    click.echo(message, err=True)


@click.group("router")
def router_group() -> None:
    """Build, configure and restart the Apollo Router."""


@router_group.command("build")
def build_command() -> None:
    """Build the router with cargo into the cache directory, unless it is already built.

    A first build compiles about 690 crates and takes the better part of an hour on two cores
    (an estimate). Progress is printed about every 30 seconds, and the binary path on success.
    """
    try:
        binary = build_router(get_settings(), progress=_echo_progress)
    except RouterBuildError as error:
        raise click.ClickException(str(error)) from error
    click.echo(str(binary))


@router_group.command("config")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="File to write router.yaml to. Default: print it to standard output.",
)
@click.option(
    "--validate",
    "validate",
    is_flag=True,
    help="Also check the file with `router config validate` (needs the built router).",
)
def config_command(output: Path | None, validate: bool) -> None:
    """Generate the router configuration from the platform settings."""
    settings = get_settings()
    try:
        config = RouterConfig.from_settings(settings)
    except ValidationError as error:
        raise click.ClickException(str(error)) from error

    if validate:
        binary = router_binary_path(settings)
        if not binary.is_file():
            raise click.ClickException(f"router binary {binary} not found; build it with `labs64 router build`")
        _validate_rendered(config, binary, output)

    if output is None:
        click.echo(config.to_yaml(), nl=False)
        return
    write_router_config(config, output)
    click.echo(f"router configuration written to {output}")


def _validate_rendered(config: RouterConfig, binary: Path, output: Path | None) -> None:
    # The router validates files only, so the configuration is written to a temporary file first.
    # That also keeps an invalid configuration from replacing the file at --output.
    with tempfile.TemporaryDirectory(prefix="labs64-router-config-") as directory:
        candidate = write_router_config(config, Path(directory) / "router.yaml")
        try:
            validate_config(binary, candidate)
        except RouterConfigInvalid as error:
            target = output if output is not None else "the generated configuration"
            raise click.ClickException(
                f"{target} was rejected by `router config validate`:\n{error.output.strip()}"
            ) from error
    click.echo("router config validate: configuration is valid", err=True)


@router_group.command("restart")
@click.option(
    "--drain-timeout",
    "drain_timeout_s",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for a replica's open requests to finish before restarting it.",
)
def restart_command(drain_timeout_s: float) -> None:
    """Restart the router replicas one at a time behind HAProxy, without failing requests."""
    from deploy.haproxy.rolling import rolling_restart

    seconds = rolling_restart(get_settings(), _echo_progress, drain_timeout_s=drain_timeout_s)
    click.echo(f"router replicas restarted in {seconds:.1f} s")
