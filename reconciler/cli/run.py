"""What several commands run: plan and show it (`plan`, `db plan`), apply and report (`apply`,
`db upgrade`, `up`). The core is reconciler/reconcile's; this part prints and picks exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import EXIT_CHANGES, EXIT_OK, DriftRemains, JsctlError, Refused

if TYPE_CHECKING:
    from ..plan.model import Plan
    from ..plan.policy import ApplyOptions
    from ..reconcile.target import Console, Target

T = TypeVar("T")


def run_within(work: Coroutine[Any, Any, T], timeout: float | None) -> T:
    """Run ``work``; after ``timeout`` seconds (``--timeout``) cancel it (its cleanup runs) and fail with one line."""
    async def bounded() -> T:
        task = asyncio.ensure_future(work)
        # asyncio.wait, not wait_for: a TimeoutError of the work itself is its own error, not the deadline's
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # past the deadline, that is the news
                await task
            raise JsctlError(f"gave up after {timeout:g}s (--timeout)")
        return task.result()

    return asyncio.run(bounded())


def show_plan(target: Target, output: str, detailed_exitcode: bool, out_file: str | None = None) -> int:
    """Plan ``target``, print the plan, save it (``--out``), choose the exit code."""
    from ..plan.policy import check_errors
    from ..plan.render import RENDERERS
    from ..reconcile.plan import plan_all

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
    from ..reconcile.target import Console
    from ..terminal import printable_text

    return Console(show=click.echo, tell=lambda message: click.echo(printable_text(f"jsctl: {message}"), err=True),
                   confirm=confirmation(assume_yes))


def run_apply(target: Target, options: ApplyOptions, assume_yes: bool, plan_file: str | None = None) -> None:
    """Apply and verify, then say what was done; a JetStream request that failed mid-way prints what
    was and was not done; database drift, what was done before the error naming it."""
    from ..jetstream.execute import ApplyFailed
    from ..reconcile.apply import apply_all
    from ..terminal import printable_text

    try:
        applied = asyncio.run(apply_all(target, options, console(assume_yes), plan_file))
    except ApplyFailed as failed:
        click.echo(printable_text(failed.report()), err=True)
        raise
    except DriftRemains as drift:  # the rest was applied: say so before the error
        click.echo(drift.done)
        raise
    if applied is not None:
        click.echo(printable_text(applied.summary()))
