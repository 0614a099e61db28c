"""`jsctl plan`: what apply would change, JetStream and the database, as text, JSON, Markdown or a
Prometheus report; optionally as an exit code. The joining is reconciler/reconcile's."""

from __future__ import annotations

from pathlib import Path
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


def _print_environments_schema(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from ..plan.render.environments import environments_schema
        from ..plan.render.json import dumps

        click.echo(dumps(environments_schema()))
        ctx.exit(0)


@click.command()
@environment_options
@all_envs_option
@manifest_option
@output_option
@detailed_exitcode_option
@click.option("--out", "out_file", metavar="FILE", type=click.Path(),
              help="Also save the plan to FILE, for `jsctl apply FILE` (refused if anything changes meanwhile); "
                   "with --all-envs, a directory: one NAME.plan.json per environment.")
@click.option("--prune", is_flag=True,
              help="Plan deletes of the resources this project owns that left the manifests (needs an owner).")
@ownership_options
@ONLY_OPTION
@click.option("--print-schema", is_flag=True, is_eager=True, expose_value=False, callback=_print_schema,
              help="Print the JSON Schema of `-o json` (and of the plan in --out files) and exit.")
@click.option("--print-environments-schema", is_flag=True, is_eager=True, expose_value=False,
              callback=_print_environments_schema,
              help="Print the JSON Schema of `-o json` over several environments (--all-envs) and exit.")
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
        return show_environment_plans(environment_targets(target), output, detailed_exitcode, out_file, timeout)
    if out_file and Path(out_file).is_dir():
        raise click.BadParameter(f"{out_file} is a directory (one is for --all-envs)", param_hint="--out")
    return show_plan(target_in_environment(target), output, detailed_exitcode, out_file, timeout)
