"""`jsctl apply`: show the plan, confirm, make it so (the database, then JetStream), verify
(see docs/plan-apply.md; the joining is reconciler/reconcile.py's)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..errors import Refused
from ..jetstream.settings import NatsSettings
from ..plan.model import Plan
from .options import apply_options, database_target_options, nats_options
from .plan import manifest_option

if TYPE_CHECKING:
    from ..reconcile.plan import ApplyOptions, Console, DatabaseTarget, Target


def confirmation(assume_yes: bool) -> Callable[[Plan], None]:
    """Ask on a terminal; without one, only --yes goes on."""
    def confirm(plan: Plan) -> None:
        if assume_yes:
            return
        if not sys.stdin.isatty():
            raise Refused("not on a terminal, so cannot ask for confirmation: pass --yes to apply")
        if not click.confirm("Apply these changes?", default=False):
            raise Refused("apply cancelled")

    return confirm


def console(assume_yes: bool) -> Console:
    from ..reconcile.plan import Console

    return Console(show=click.echo, tell=lambda message: click.echo(f"jsctl: {message}", err=True),
                   confirm=confirmation(assume_yes))


def run_apply(target: Target, options: ApplyOptions, assume_yes: bool) -> None:
    """Apply and verify, then say what was done; a JetStream request that failed mid-way prints what
    was and was not done."""
    from ..jetstream.execute import ApplyFailed
    from ..reconcile.plan import apply_all

    try:
        applied = asyncio.run(apply_all(target, options, console(assume_yes)))
    except ApplyFailed as failed:
        click.echo(failed.report(), err=True)
        raise
    if applied is not None:
        click.echo(applied.summary())


@click.command()
@manifest_option
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--prune", is_flag=True, help="Delete resources jsctl created that no manifest declares any more.")
@apply_options
@click.argument("plan_file", required=False, metavar="[PLAN]", type=click.Path(dir_okay=False))
@nats_options
@database_target_options
def apply(files: tuple[str, ...], assume_yes: bool, prune: bool, options: ApplyOptions, plan_file: str | None,
          nats: NatsSettings, database: DatabaseTarget | None) -> None:
    """Make the live servers match the manifests (and, with a database configured, upgrade it to
    head), then verify.

    With PLAN (from `jsctl plan --out PLAN`), apply exactly that plan, without asking; refused
    (exit 3) if the manifests, the migrations or the live state changed since it was made.
    """
    from ..reconcile.plan import Target

    run_apply(Target(nats, files, database, prune), dataclasses.replace(options, plan_file=plan_file), assume_yes)
