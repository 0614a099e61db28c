"""`jsctl destroy`: delete every stream and consumer this project owns in the target (a pull-request
preview environment's teardown), showing the plan first; the planning is apply's with nothing declared
and --prune (reconcile/target.py ``Target.destroying``), so exactly what --prune would delete, no more."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import UserError
from ..jetstream.settings import NatsSettings
from .options import (
    environment_options,
    jetstream_apply_options,
    nats_options,
    output_option,
    owner_options,
    target_in_environment,
    timeout_option,
)
from .run import run_apply, show_plan

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..jetstream.ownership import Ownership
    from ..plan.policy import ApplyOptions


@click.command()
@environment_options
@click.option("--dry-run", is_flag=True, help="Show what would be deleted, change nothing.")
@output_option
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Destroy without asking for confirmation.")
@owner_options
@jetstream_apply_options
@timeout_option
@nats_options
def destroy(dry_run: bool, output: str, assume_yes: bool, ownership: Ownership, options: ApplyOptions,
            timeout: Deadline | None, nats: NatsSettings) -> int | None:
    """Delete every stream, consumer and bucket this project owns (metadata io.jsctl.owner) in the target, then
    verify; needs an owner and --allow-destructive, and asks first (--yes without a terminal).

    Reads no manifest. Resources of other projects, and those jsctl did not create or recorded no owner
    for, are left alone, as is a stream of this project that another project's consumer is on. The
    database is never touched: drop it with its server.
    """
    from ..reconcile.target import Target

    target = target_in_environment(Target(nats, ownership=ownership)).destroying()
    if dry_run:
        return show_plan(target, output, detailed_exitcode=False, deadline=timeout)
    if output != "text":
        raise UserError(f"-o {output} is for --dry-run: destroy shows its plan as text before it asks")
    run_apply(target, options, assume_yes, deadline=timeout, verb="destroy")
    return None
