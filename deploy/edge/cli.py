"""``labs64 edge``: the persisted operation manifest and cache purges of the edge Worker."""

from __future__ import annotations

import click
import httpx

from deploy.edge.manifest import ManifestError, load_operations, write_manifest
from labs64.settings import get_settings

__all__ = ["edge_group"]


@click.group("edge")
def edge_group() -> None:
    """Manage the edge Worker's persisted operations and its cache."""


@edge_group.command("manifest")
def manifest_command() -> None:
    """Write deploy/edge/operations/manifest.json from the operations' .graphql files.

    `labs64 up` does this too before it starts the Worker; run it before `wrangler deploy`.
    """
    try:
        manifest = write_manifest()
    except ManifestError as error:
        raise click.ClickException(str(error)) from error
    for operation_id, operation in manifest["operations"].items():  # type: ignore[union-attr]
        click.echo(f"{operation_id}  {operation['name']}  cache {operation['cacheSeconds']} s")


@edge_group.command("purge")
@click.argument("operations", nargs=-1)
@click.option("--all", "purge_all", is_flag=True, help="Purge the cached responses of every operation.")
@click.option("--url", default=None, help="Edge address; default: the local edge of the platform settings.")
def purge_command(operations: tuple[str, ...], purge_all: bool, url: str | None) -> None:
    """Drop the edge's cached responses of the named persisted OPERATIONS (or --all)."""
    if bool(operations) == purge_all:
        raise click.UsageError("name one or more operations, such as `labs64 edge purge Plans`, or pass --all")
    settings = get_settings()
    by_name = {operation.name: operation.id for operation in load_operations()}
    unknown = [name for name in operations if name not in by_name]
    if unknown:
        raise click.BadParameter(f"unknown operations {', '.join(unknown)}; known: {', '.join(sorted(by_name))}")

    body: dict[str, object] = {"all": True} if purge_all else {"ids": [by_name[name] for name in operations]}
    endpoint = f"{(url or settings.edge_url).rstrip('/')}/__edge/purge"
    try:
        response = httpx.post(
            endpoint, json=body, headers={"authorization": f"Bearer {settings.edge_purge_secret}"}, timeout=10, trust_env=False
        )
    except httpx.HTTPError as error:
        raise click.ClickException(f"purge request to {endpoint} failed: {error}; is the edge running (`labs64 status`)?") from error
    if response.status_code != 200:
        raise click.ClickException(f"the edge rejected the purge with HTTP {response.status_code}: {response.text.strip()}")
    click.echo(f"purged: {', '.join(operations) if operations else 'all operations'}")
