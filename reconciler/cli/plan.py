"""`jsctl plan`: what apply would change, JetStream and the database, as text, JSON, Markdown or a
Prometheus report; optionally as an exit code. The joining is reconciler/reconcile's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..jetstream.settings import NatsSettings
from .options import (
    ONLY_OPTION,
    all_envs_option,
    database_target_options,
    detailed_exitcode_option,
    environment_options,
    environment_targets,
    manifest_option,
    nats_options,
    output_option,
    ownership_options,
    target_in_environment,
    timeout_option,
)
from .run import show_environment_plans, show_plan

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..jetstream.ownership import Ownership
    from ..reconcile.target import DatabaseTarget

def _print_schema(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from ..plan.render.json import json_schema_text

        click.echo(json_schema_text(), nl=False)
        ctx.exit(0)


@click.command()
@environment_options
@all_envs_option
@manifest_option
@output_option
@detailed_exitcode_option
@click.option("--out", "out_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also save the plan to FILE, for `jsctl apply FILE` (refused if anything changes meanwhile).")
@click.option("--prune", is_flag=True,
              help="Plan deletes of the resources this project owns that left the manifests (needs an owner).")
@ownership_options
@ONLY_OPTION
@click.option("--print-schema", is_flag=True, is_eager=True, expose_value=False, callback=_print_schema,
              help="Print the JSON Schema of `-o json` (and of the plan in --out files) and exit.")
@timeout_option
@nats_options
@database_target_options
def plan(all_envs: bool, files: tuple[str, ...], variables: dict[str, Any], output: str, detailed_exitcode: bool,
         out_file: str | None, prune: bool, ownership: Ownership, only: str | None, timeout: Deadline | None,
         nats: NatsSettings, database: DatabaseTarget | None) -> int:
    """Show what `jsctl apply` would change on the live servers (with a database configured, its
    pending revisions and drift too).

    With --all-envs, plan every environment of jsctl.yaml at once, one section each."""
    from ..reconcile.target import Target

    target = Target(nats, files, database, prune, ownership, only, variables=variables)
    if all_envs:
        if out_file:
            raise click.UsageError("--out saves one environment's plan: give --env NAME instead of --all-envs")
        return show_environment_plans(environment_targets(target), output, detailed_exitcode, timeout)
    return show_plan(target_in_environment(target), output, detailed_exitcode, out_file, timeout)
