"""`jsctl plan`: what apply would change, JetStream and the database, as text, JSON, Markdown or a
Prometheus report; optionally as an exit code. The joining is reconciler/reconcile.py's."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import click

from ..errors import EXIT_CHANGES, EXIT_OK, JsctlError
from ..jetstream.settings import NatsSettings
from ..reconcile.plan import load_manifests
from .options import database_target_options, nats_options

if TYPE_CHECKING:
    from ..reconcile.plan import DatabaseTarget, Target

__all__ = ["detailed_exitcode_option", "load_manifests", "manifest_option", "output_option", "plan", "show_plan"]

manifest_option = click.option(
    "-f", "--file", "files", multiple=True, metavar="PATH",
    help="Manifest file or directory of *.yaml (repeatable) [default: ./streams.yaml ./consumers.yaml].")
output_option = click.option(
    "-o", "--output", type=click.Choice(["text", "json", "markdown", "prometheus"]), default="text",
    help="Output format; json is versioned (see docs/plan-apply.md); prometheus is a node_exporter "
         "text-file report (see docs/gitops.md).")
detailed_exitcode_option = click.option(
    "--detailed-exitcode", is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would (changes, pending revisions, drift).")


def show_plan(target: Target, output: str, detailed_exitcode: bool, out_file: str | None = None) -> int:
    """Plan ``target``, print the plan, save it (``--out``), choose the exit code."""
    from ..plan.render.text import RENDERERS
    from ..reconcile.plan import check_errors, plan_all

    try:
        result, basis = asyncio.run(plan_all(target, saving=bool(out_file)))
    except JsctlError:
        if output == "prometheus":  # the report still says when the check ran, and that it failed
            from ..plan.render.prometheus import render_prometheus

            click.echo(render_prometheus(None, time.time()), nl=False)
        raise
    click.echo(RENDERERS[output](result), nl=output != "prometheus")
    check_errors(result)
    if out_file and basis is not None:
        from ..plan.planfile import SavedPlan

        SavedPlan(result, basis).write(out_file)
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK


@click.command()
@manifest_option
@output_option
@detailed_exitcode_option
@click.option("--out", "out_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also save the plan to FILE, for `jsctl apply FILE` (refused if anything changes meanwhile).")
@click.option("--prune", is_flag=True, help="Plan deletes of resources jsctl created that left the manifests.")
@nats_options
@database_target_options
def plan(files: tuple[str, ...], output: str, detailed_exitcode: bool, out_file: str | None, prune: bool,
         nats: NatsSettings, database: DatabaseTarget | None) -> int:
    """Show what `jsctl apply` would change on the live servers (with a database configured, its
    pending revisions and drift too)."""
    from ..reconcile.plan import Target

    return show_plan(Target(nats, files, database, prune), output, detailed_exitcode, out_file)
