"""`jsctl validate`: check the manifests offline and report every problem at once."""

from __future__ import annotations

from typing import Any

import click

from .options import environment_options, manifest_option


@click.command()
@environment_options
@manifest_option
@click.option("--print-schema", is_flag=True, help="Print the manifests' JSON Schema (for editors) and exit.")
def validate(files: tuple[str, ...], variables: dict[str, Any], print_schema: bool) -> None:
    """Validate streams.yaml and consumers.yaml without connecting anywhere."""
    if print_schema:
        from importlib import resources

        from ..manifest.schema import SCHEMA_RESOURCE

        click.echo(resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"), nl=False)
        return
    from ..reconcile.plan import load_manifests
    from ..terminal import printable

    desired = load_manifests(files, variables)
    streams, consumers = len(desired.streams), len(desired.consumers)
    click.echo(printable(f"ok: {streams} stream{'s' if streams != 1 else ''}, "
                         f"{consumers} consumer{'s' if consumers != 1 else ''} in {', '.join(desired.files)}"))
