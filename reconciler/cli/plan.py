"""`jsctl plan`: what apply would change, as text, JSON or Markdown; optionally as an exit code."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..connection import NatsSettings
from ..errors import EXIT_CHANGES, EXIT_OK, JsctlError, UserError
from ..manifest.model import Desired
from ..plan import Plan
from .options import nats_options

if TYPE_CHECKING:
    from ..jetstream.observe import Live
    from ..savedplan import PlanBasis

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


def plan_basis(desired: Desired, live: Live) -> PlanBasis:
    """What a plan was computed from (see savedplan.py): manifest files, live configs, target."""
    from ..jetstream.diff import consumer_address, stream_address
    from ..savedplan import PlanBasis, manifest_digests, target_of

    configs = {stream_address(name): item["config"] for name, item in live.streams.items()}
    configs |= {consumer_address(*key): item["config"] for key, item in live.consumers.items()}
    return PlanBasis.build(manifests=manifest_digests(desired.files), live_configs=configs,
                           target=target_of(live.identity))


async def _plan(nats: NatsSettings, files: tuple[str, ...], *, prune: bool,
                saving: bool) -> tuple[Plan, PlanBasis | None]:
    """The plan, and when ``saving`` what it was computed from (digests of every live config: only then)."""
    from ..jetstream import JetStreamSession

    desired = load_manifests(files)
    async with JetStreamSession(nats, name="jsctl plan") as session:
        plan = await session.plan(desired, prune=prune)
        plan.context["options"] = {"prune": prune}
        return plan, plan_basis(desired, session.live) if saving else None


@click.command()
@manifest_option
@click.option("-o", "--output", type=click.Choice(["text", "json", "markdown", "prometheus"]), default="text",
              help="Output format; json is versioned (see docs/plan-apply.md); prometheus is a node_exporter "
                   "text-file report (see docs/gitops.md).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing would change, 2 when something would.")
@click.option("--out", "out_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also save the plan to FILE, for `jsctl apply FILE` (refused if anything changes meanwhile).")
@click.option("--prune", is_flag=True, help="Plan deletes of resources jsctl created that left the manifests.")
@nats_options
def plan(files: tuple[str, ...], output: str, detailed_exitcode: bool, out_file: str | None, prune: bool,
         nats: NatsSettings) -> int:
    """Show what `jsctl apply` would change on the live servers."""
    from ..render import RENDERERS

    try:
        result, basis = asyncio.run(_plan(nats, files, prune=prune, saving=bool(out_file)))
    except JsctlError:
        if output == "prometheus":  # the report still says when the check ran, and that it failed
            from ..render_prometheus import render_prometheus

            click.echo(render_prometheus(None, time.time()), nl=False)
        raise
    click.echo(RENDERERS[output](result), nl=output != "prometheus")
    check_errors(result)
    if out_file and basis is not None:
        from ..savedplan import SavedPlan

        SavedPlan(result, basis).write(out_file)
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK
