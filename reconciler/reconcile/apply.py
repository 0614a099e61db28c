"""Apply a joint plan under the apply lock kept in JetStream (jetstream/lock.py): everything that can refuse
is checked before anything changes (plan/policy.py), then the database is upgraded, then JetStream is
applied; each half verifies its own result. Database drift (found by the plan, or left after the upgrade)
does not stop JetStream: it is reported once everything else is done (errors.DriftRemains, exit 1).

Why the database first: its apply still has checks that can refuse at the last moment (its own
advisory lock, held by a `jsctl db upgrade` elsewhere; the revision moved; a revision file edited)
and its revisions can fail on existing rows. Run first, such a refusal or failure leaves JetStream
untouched; JetStream's changes were all checked beforehand, under the apply lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from ..errors import DriftRemains
from ..plan.address import DATABASE
from ..plan.model import Action, Change, Plan
from ..plan.policy import ApplyOptions, check
from .plan import _check_target, _current_basis, _load, _plan, _session, planned_with
from .target import Applied, Console, DatabaseTarget, Target

if TYPE_CHECKING:
    from ..jetstream.lock import ApplyLock
    from ..jetstream.session import JetStreamSession


@contextlib.asynccontextmanager
async def _apply_lock(session: JetStreamSession | None, timeout: float,
                      tell: Callable[[str], None]) -> AsyncIterator[ApplyLock | None]:
    """The apply lock in the NATS account; without NATS, the database's advisory lock alone serializes."""
    if session is None:
        yield None
        return
    from ..jetstream.lock import ApplyLock

    assert session.api is not None
    async with ApplyLock(session.api.nc, timeout_s=timeout, tell=tell, prefix=session.api.prefix) as lock:
        yield lock


async def _ensure_held(lock: ApplyLock | None) -> None:
    if lock is not None:
        await lock.ensure_held()


async def apply_all(target: Target, options: ApplyOptions, console: Console,
                    plan_file: str | None = None) -> Applied | None:
    """Plan (or check the saved plan ``plan_file``, from `jsctl plan --out`), refuse what needs a decision,
    then apply and verify both halves; None when there was nothing to do (no request sent, no lock on
    the database taken)."""
    from ..plan.planfile import SavedPlan
    from ..plan.render.text import render_text

    saved = SavedPlan.read(plan_file) if plan_file else None
    if saved is not None:  # the saved plan decides; the same flags would be needed to plan it again
        saved.ensure_environment(target.environment)
        target = planned_with(target, saved.plan)
    target = target.narrowed()
    _check_target(target)
    desired = _load(target)
    async with _session(target, "jsctl apply") as session, \
            _apply_lock(session, options.lock_timeout, console.tell) as lock:
        if saved is None:
            plan, _ = await _plan(session, desired, target, saving=False)
        else:
            saved.ensure_fresh(await _current_basis(session, desired, target, saved))
            plan = saved.plan
        console.show(render_text(plan))
        check(plan, options.allow_destructive)
        if not plan.has_changes:
            return None
        if saved is None and plan.pending:  # a saved plan was reviewed when it was saved, as with Terraform
            # In a thread: the lock is refreshed on this event loop while a person reads the plan.
            await asyncio.to_thread(console.confirm, plan)
        applied = Applied()
        drift = [c for c in plan.changes if c.address.target == DATABASE and c.action == Action.DRIFT]
        if target.database and any(c.address.target == DATABASE for c in plan.pending):
            await _ensure_held(lock)
            applied.database_steps, drift = await asyncio.to_thread(_apply_database, target.database, plan, options,
                                                                    console.show)
        if session is not None and desired is not None and any(c.address.target != DATABASE for c in plan.pending):
            await _ensure_held(lock)
            applied.jetstream_requests = len(await session.apply(desired, plan.pending, prune=target.prune,
                                                                 ownership=target.ownership, progress=console.tell,
                                                                 converge_timeout=options.converge_timeout))
        if drift:  # reported once the rest is done: drift does not hold back what does not depend on it
            from ..db.diff import one_line

            applied.database_drift = True
            raise DriftRemains(one_line(drift), upgraded=bool(applied.database_steps), done=applied.summary())
        return applied


def _apply_database(database: DatabaseTarget, plan: Plan, options: ApplyOptions,
                    progress: Callable[[str], None]) -> tuple[list[str], list[Change]]:
    """Upgrade under Postgres' advisory lock, then compare the database with schema.yaml and the
    migrations at head (db/execute.py): what differs is drift, which jsctl never corrects by itself."""
    from ..db.execute import execute

    return execute(database.settings, database.migrations, plan, options, progress)
