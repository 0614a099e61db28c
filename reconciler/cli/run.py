"""What several commands run: plan and show it (`plan`, `db plan`), apply and report (`apply`,
`db upgrade`, `up`). The core is reconciler/reconcile's; this part prints and picks exit codes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..deadline import Deadline, DeadlineExceeded, run
from ..errors import EXIT_CHANGES, EXIT_OK, DriftRemains, JsctlError, Refused

if TYPE_CHECKING:
    from ..plan.model import Plan
    from ..plan.policy import ApplyOptions
    from ..reconcile.target import Console, Target


def show_plan(target: Target, output: str, detailed_exitcode: bool, out_file: str | None = None,
              deadline: Deadline | None = None) -> int:
    """Plan ``target`` (within ``deadline``), print the plan, save it (``--out``), choose the exit code."""
    from ..plan.policy import check_errors
    from ..plan.render import RENDERERS
    from ..reconcile.plan import plan_all

    try:
        result, basis = run(plan_all(target, saving=bool(out_file)), deadline)
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


async def _plan_each(targets: list[Target]) -> list[tuple[Plan, object] | BaseException]:
    """Every target's plan at once, each with its own connections; a failure is returned, not raised."""
    import asyncio

    from ..reconcile.plan import plan_all

    return await asyncio.gather(*(plan_all(target, saving=False) for target in targets), return_exceptions=True)


def show_environment_plans(targets: list[Target], output: str, detailed_exitcode: bool,
                           deadline: Deadline | None = None) -> int:
    """Plan every environment's target concurrently, print one section each (the environments that could
    be planned), each failure on stderr, and exit with the worst code: an error wins, then changes."""
    from ..plan.policy import check_errors
    from ..plan.render.environments import render_environments, worst_exit_code
    from ..terminal import printable_text

    if output == "prometheus":
        raise click.UsageError("-o prometheus plans one environment: give --env NAME instead of --all-envs")
    sections: list[tuple[str, Plan]] = []
    codes: list[int] = []
    failures: list[str] = []
    for target, result in zip(targets, run(_plan_each(targets), deadline), strict=True):
        name = str(target.environment)
        if isinstance(result, BaseException) and not isinstance(result, JsctlError):
            raise result
        try:
            if isinstance(result, BaseException):
                raise result
            plan = result[0]
            sections.append((name, plan))
            check_errors(plan)
            codes.append(EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK)
        except JsctlError as exc:
            failures.append(name)
            codes.append(exc.exit_code)
            click.echo(printable_text(f"jsctl: error: environment {name}: {exc}"), err=True)
    if sections:
        click.echo(render_environments(output, sections))
    if failures:
        raise JsctlError(f"{len(failures)} of {len(targets)} environments not planned: {', '.join(failures)}")
    return worst_exit_code(codes)


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


def run_apply_environments(targets: list[Target], options: ApplyOptions, assume_yes: bool,
                           deadline: Deadline | None = None) -> None:
    """Apply the environments one at a time, in the project file's order; stop at the first that fails
    and say which were applied and which not."""
    applied: list[str] = []
    for index, target in enumerate(targets):
        click.echo(f"=== environment {target.environment} ===")
        try:
            run_apply(target, options, assume_yes, deadline=deadline)
        except (JsctlError, KeyboardInterrupt):
            left = [str(t.environment) for t in targets[index + 1:]]
            click.echo(f"jsctl: environments applied: {', '.join(applied) or 'none'}; failed: {target.environment}"
                       + (f"; not applied: {', '.join(left)}" if left else ""), err=True)
            raise
        applied.append(str(target.environment))
    click.echo(f"Environments applied: {', '.join(applied)}.")


def run_apply(target: Target, options: ApplyOptions, assume_yes: bool, plan_file: str | None = None,
              deadline: Deadline | None = None) -> None:
    """Apply and verify (within ``deadline``), then say what was done; JetStream requests that failed or
    were interrupted mid-way print what was and was not done; database drift, what was done before the
    error naming it."""
    from ..jetstream.execute import ApplyFailed
    from ..reconcile.apply import apply_all
    from ..terminal import printable_text

    try:
        applied = run(apply_all(target, options, console(assume_yes), plan_file), deadline)
    except (ApplyFailed, DeadlineExceeded) as exc:
        failed = exc.interrupted if isinstance(exc, DeadlineExceeded) else exc
        if isinstance(failed, ApplyFailed):
            click.echo(printable_text(failed.report()), err=True)
        raise
    except DriftRemains as drift:  # the rest was applied: say so before the error
        click.echo(drift.done)
        raise
    if applied is not None:
        click.echo(printable_text(applied.summary()))
