"""`jsctl plan`: what apply would change, as text, JSON or Markdown; optionally as an exit code."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ..connection import NatsSettings
from ..errors import EXIT_CHANGES, EXIT_OK, UserError
from ..manifest.model import Desired
from ..plan import Plan
from .options import nats_options

manifest_option = click.option(
    "-f", "--file", "files", multiple=True, metavar="PATH",
    help="Manifest file or directory of *.yaml (repeatable) [default: ./streams.yaml ./consumers.yaml].")


def load_manifests(files: tuple[str, ...]) -> Desired:
    """The validated manifests (every problem at once); no ``-f``: the default files."""
    from ..manifest import load_desired

    return load_desired([Path(f) for f in files])


def check_errors(plan: Plan) -> None:
    if plan.errors:
        raise UserError("the plan has errors:\n  " + "\n  ".join(plan.errors))


async def _plan(nats: NatsSettings, files: tuple[str, ...]) -> Plan:
    from ..jetstream import JetStreamSession

    desired = load_manifests(files)
    async with JetStreamSession(nats, name="jsctl plan") as session:
        return await session.plan(desired)


@click.command()
@manifest_option
@click.option("-o", "--output", type=click.Choice(["text", "json", "markdown"]), default="text",
              help="Output format; json is versioned (see docs/plan-apply.md).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing would change, 2 when something would.")
@nats_options
def plan(files: tuple[str, ...], output: str, detailed_exitcode: bool, nats: NatsSettings) -> int:
    """Show what `jsctl apply` would change on the live servers."""
    from ..render import RENDERERS

    result = asyncio.run(_plan(nats, files))
    click.echo(RENDERERS[output](result))
    check_errors(result)
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK
