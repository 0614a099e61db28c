"""`jsctl apply`: show the plan, confirm, make it so, verify (see docs/plan-apply.md)."""

from __future__ import annotations

import asyncio
import sys

import click

from ..connection import NatsSettings
from ..errors import Refused
from ..plan import Plan
from .options import nats_options
from .plan import check_errors, load_manifests, manifest_option


def check_allowed(plan: Plan, *, allow_destructive: bool, assume_yes: bool) -> None:
    """Refuse destructive changes without --allow-destructive, and unconfirmed applies."""
    destructive = plan.destructive
    if destructive and not allow_destructive:
        what = "; ".join(f"{c.action} {c.address} ({c.reason})" for c in destructive)
        raise Refused(f"destructive changes need --allow-destructive: {what}")
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise Refused("not on a terminal, so cannot ask for confirmation: pass --yes to apply")
    if not click.confirm("Apply these changes?", default=False):
        raise Refused("apply cancelled")


async def _apply(nats: NatsSettings, files: tuple[str, ...], *, prune: bool, allow_destructive: bool,
                 assume_yes: bool) -> None:
    from ..jetstream import JetStreamSession
    from ..jetstream.execute import ApplyFailed
    from ..render import render_text

    desired = load_manifests(files)
    async with JetStreamSession(nats, name="jsctl apply") as session:
        plan = await session.plan(desired, prune=prune)
        click.echo(render_text(plan))
        check_errors(plan)
        if not plan.pending:
            return
        check_allowed(plan, allow_destructive=allow_destructive, assume_yes=assume_yes)
        try:
            steps = await session.apply(desired, plan.pending, prune=prune)
        except ApplyFailed as failed:
            click.echo(failed.report(), err=True)
            raise
        click.echo(f"Apply complete: {len(steps)} requests, verified.")


@click.command()
@manifest_option
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--allow-destructive", is_flag=True, help="Allow replace and delete (they lose messages and state).")
@click.option("--prune", is_flag=True, help="Delete resources jsctl created that no manifest declares any more.")
@nats_options
def apply(files: tuple[str, ...], assume_yes: bool, allow_destructive: bool, prune: bool, nats: NatsSettings) -> None:
    """Make the live servers match the manifests, then verify."""
    asyncio.run(_apply(nats, files, prune=prune, allow_destructive=allow_destructive, assume_yes=assume_yes))
