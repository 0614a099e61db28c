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
    from ..plan.planfile import PlanBasis
    from ..plan.policy import ApplyOptions
    from ..reconcile.target import Console, Target


def show_plan(target: Target, output: str, detailed_exitcode: bool, out_file: str | None = None,
              deadline: Deadline | None = None) -> int:
    """Plan ``target`` (within ``deadline``), print the plan, save it (``--out``), choose the exit code."""
    from ..plan.policy import check_errors, plan_exit_code
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
    return plan_exit_code(result, detailed_exitcode)


def show_environment_plans(targets: list[Target], output: str, detailed_exitcode: bool, out_dir: str | None = None,
                           deadline: Deadline | None = None) -> int:
    """Plan every environment's target concurrently, print one section each (a failed one says why), save
    them in ``out_dir`` (one file each, only when every one was planned without errors) and return the
    worst exit code: an error wins, then changes."""
    from ..plan.render.environments import PlanFailed, exit_code, render_environments, worst_exit_code
    from ..reconcile.environments import plan_environments

    sections: list[tuple[str, Plan | PlanFailed]] = []
    bases: list[PlanBasis | None] = []
    for target, result in zip(targets, plan_environments(targets, saving=bool(out_dir), deadline=deadline),
                              strict=True):
        sections.append((str(target.environment), PlanFailed.of(result) if isinstance(result, JsctlError)
                         else result[0]))
        bases.append(None if isinstance(result, BaseException) else result[1])  # None also when not saving
    click.echo(render_environments(output, sections), nl=output != "prometheus")
    code = worst_exit_code([exit_code(outcome, detailed_exitcode) for _, outcome in sections])
    if out_dir and code in (EXIT_OK, EXIT_CHANGES):
        from ..plan.planfile import SavedPlan, write_environment_plans

        write_environment_plans(out_dir, [(name, SavedPlan(plan, basis)) for (name, plan), basis
                                          in zip(sections, bases, strict=True) if basis is not None])
    return code


def confirmation(assume_yes: bool, verb: str = "apply") -> Callable[[Plan], None]:
    """Ask on a terminal (``verb``: what is asked for, apply or destroy); without one, only --yes goes on."""
    def confirm(plan: Plan) -> None:
        if assume_yes:
            return
        if not sys.stdin.isatty():
            raise Refused(f"not on a terminal, so cannot ask for confirmation: pass --yes to {verb}")
        if not click.confirm(f"{verb.capitalize()} these changes?", default=False):
            raise Refused(f"{verb} cancelled")

    return confirm


def console(assume_yes: bool, verb: str = "apply") -> Console:
    from ..reconcile.target import Console
    from ..terminal import printable_text

    return Console(show=click.echo, tell=lambda message: click.echo(printable_text(f"jsctl: {message}"), err=True),
                   confirm=confirmation(assume_yes, verb))


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
              deadline: Deadline | None = None, verb: str = "apply") -> None:
    """Apply and verify (within ``deadline``), then say what was done; JetStream requests that failed or
    were interrupted mid-way print what was and was not done; database drift, what was done before the
    error naming it."""
    from ..jetstream.execute import ApplyFailed
    from ..reconcile.apply import apply_all
    from ..terminal import printable_text

    try:
        applied = run(apply_all(target, options, console(assume_yes, verb), plan_file), deadline)
    except (ApplyFailed, DeadlineExceeded) as exc:
        failed = exc.interrupted if isinstance(exc, DeadlineExceeded) else exc
        if isinstance(failed, ApplyFailed):
            click.echo(printable_text(failed.report()), err=True)
        raise
    except DriftRemains as drift:  # the rest was applied: say so before the error
        click.echo(drift.done)
        raise
    if applied is not None:
        click.echo(printable_text(applied.summary(verb)))
