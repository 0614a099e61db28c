"""`jsctl apply`: show the plan, confirm, make it so (the database, then JetStream), verify
(see docs/plan-apply.md; the joining is reconciler/reconcile's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..jetstream.settings import NatsSettings
from .options import (
    ONLY_OPTION,
    all_envs_option,
    apply_options,
    database_target_options,
    environment_options,
    environment_targets,
    manifest_option,
    nats_options,
    ownership_options,
    target_in_environment,
    timeout_option,
)
from .run import run_apply, run_apply_environments

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..jetstream.ownership import Ownership
    from ..plan.policy import ApplyOptions
    from ..reconcile.target import DatabaseTarget


@click.command()
@environment_options
@all_envs_option
@manifest_option
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--prune", is_flag=True,
              help="Delete the resources this project owns that no manifest declares any more (needs an owner).")
@ownership_options
@ONLY_OPTION
@apply_options
@timeout_option
@click.argument("plan_file", required=False, metavar="[PLAN]", type=click.Path(dir_okay=False))
@nats_options
@database_target_options
def apply(all_envs: bool, files: tuple[str, ...], variables: dict[str, Any], assume_yes: bool, prune: bool,
          ownership: Ownership, only: str | None, options: ApplyOptions, timeout: Deadline | None,
          plan_file: str | None, nats: NatsSettings, database: DatabaseTarget | None) -> None:
    """Make the live servers match the manifests (and, with a database configured, upgrade it to
    head), then verify.

    With PLAN (from `jsctl plan --out PLAN`), apply exactly that plan, without asking; refused
    (exit 3) if the manifests, the migrations or the live state changed since it was made.

    With --all-envs, apply every environment of jsctl.yaml, one at a time in the file's order, stopping
    at the first that fails.
    """
    from ..reconcile.target import Target

    target = Target(nats, files, database, prune, ownership, only, variables=variables)
    if all_envs:
        if plan_file:
            raise click.UsageError("a saved plan is one environment's: leave out --all-envs")
        run_apply_environments(environment_targets(target), options, assume_yes, timeout)
        return
    run_apply(target_in_environment(target), options, assume_yes, plan_file, timeout)
