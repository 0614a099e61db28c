"""`jsctl apply`: show the plan, confirm, make it so, verify (see docs/plan-apply.md)."""

from __future__ import annotations

import asyncio
import sys

import click

from ..connection import NatsSettings
from ..errors import Refused
from ..plan import Plan
from .options import nats_options
from .plan import check_errors, load_manifests, manifest_option, plan_basis


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


def _tell(message: str) -> None:
    click.echo(f"jsctl: {message}", err=True)


async def _apply(nats: NatsSettings, files: tuple[str, ...], *, plan_file: str | None, prune: bool,
                 allow_destructive: bool, assume_yes: bool, lock_timeout: float) -> None:
    from ..jetstream import JetStreamSession
    from ..jetstream.execute import ApplyFailed
    from ..lock import ApplyLock
    from ..render import render_text
    from ..savedplan import SavedPlan

    saved = SavedPlan.read(plan_file) if plan_file else None
    if saved is not None:  # the saved plan decides; the same flags would be needed to plan it again
        prune = bool(saved.plan.context.get("options", {}).get("prune"))
        assume_yes = True  # reviewed when it was saved, as with Terraform's saved plans
    desired = load_manifests(files)
    async with JetStreamSession(nats, name="jsctl apply") as session:
        assert session.api is not None
        async with ApplyLock(session.api.nc, timeout_s=lock_timeout, on_wait=_tell) as lock:
            plan = await session.plan(desired, prune=prune)
            if saved is not None:
                saved.ensure_fresh(plan_basis(desired, session.live))
                plan = saved.plan
            click.echo(render_text(plan))
            check_errors(plan)
            if not plan.pending:
                return
            # In a thread: the lock is refreshed on this event loop while a person reads the plan.
            await asyncio.to_thread(check_allowed, plan, allow_destructive=allow_destructive, assume_yes=assume_yes)
            await lock.ensure_held()
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
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
              help="How long to wait for another apply on the same account to finish (then exit 3).")
@click.argument("plan_file", required=False, metavar="[PLAN]", type=click.Path(dir_okay=False))
@nats_options
def apply(files: tuple[str, ...], assume_yes: bool, allow_destructive: bool, prune: bool, lock_timeout: float,
          plan_file: str | None, nats: NatsSettings) -> None:
    """Make the live servers match the manifests, then verify.

    With PLAN (from `jsctl plan --out PLAN`), apply exactly that plan, without asking; refused
    (exit 3) if the manifests or the live state changed since it was made.
    """
    asyncio.run(_apply(nats, files, plan_file=plan_file, prune=prune, allow_destructive=allow_destructive,
                       assume_yes=assume_yes, lock_timeout=lock_timeout))
