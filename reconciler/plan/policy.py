"""The rules an apply runs under, in one place: what is destructive, what needs the user's decision,
and what they decided.

Planners mark a change destructive with ``is_destructive`` (the one definition); reconcile.apply_all
checks a plan once with ``check``, before anything changes (both halves together);
reconciler.db.apply_database, the database half called on its own, checks its part the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ..errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Refused, UserError
from .details import DESTRUCTIVE, LOSSY, MODIFIES_DATA, Details
from .model import Action, Change, Plan


@dataclass(frozen=True)
class ApplyOptions:
    """What the person applying decided: whether destructive changes may go ahead, and how long
    apply may wait (for locks, for a DDL statement, for a cluster to converge)."""

    allow_destructive: bool = False  # replace/delete in JetStream, destructive revisions in the database
    lock_timeout: float = 60.0  # seconds to wait for each apply lock (JetStream's, then Postgres')
    ddl_lock_timeout: float = 10.0  # seconds a DDL statement may wait for a table lock
    statement_timeout: float = 900.0  # seconds a statement may run (0: no limit)
    converge_timeout: float = 60.0  # seconds, per stream or consumer written on a cluster


# The risk flags of a database revision that lose data (db/risk.py): what is dropped, rows changed, values
# a type change alters for good. Each needs --allow-destructive where what it touches exists now.
LOSES_DATA = (DESTRUCTIVE, MODIFIES_DATA, LOSSY)
# A replace or delete loses the resource as it is now: its messages, its consumers' positions. A replace
# that could keep the data still means downtime and new sequence numbers.
LOSES_THE_RESOURCE = frozenset({Action.REPLACE, Action.DELETE})


def is_destructive(action: Action, details: Details | None = None, live: Collection[str] = ()) -> bool:
    """A change is destructive when it may lose data or state that exists now, judged on the live state.

    ``details.revision``'s findings that lose data (LOSES_DATA: a table, column, index or constraint
    dropped, rows changed, a lossy type change) count when what they touch is in ``live`` (the tables
    and indexes the database holds now), or is not known (code jsctl cannot read) while the database
    holds anything: an empty database loses nothing, nor does a table created by an earlier pending
    revision.
    """
    if action in LOSES_THE_RESOURCE:
        return True
    revision = details.revision if details else None
    return revision is not None and any((finding.relation is None and bool(live)) or finding.relation in live
                                        for finding in revision.findings(*LOSES_DATA))


def plan_exit_code(plan: Plan, detailed_exitcode: bool) -> int:
    """How `jsctl plan` exits for ``plan``: 1 when it has errors, 2 for changes with ``detailed_exitcode``, else 0."""
    if plan.errors:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK


def check_errors(plan: Plan) -> None:
    if plan.errors:
        raise UserError("the plan has errors:\n  " + "\n  ".join(plan.errors))


def why_destructive(change: Change) -> str:
    """What a destructive change loses: a revision's notes of the flags that lose data (drops, data
    changes, lossy casts), else the planner's reason."""
    revision = change.details.revision
    notes = [finding.note for finding in revision.findings(*LOSES_DATA)] if revision else []
    return ", ".join(notes) or change.reason or "destructive"


def refuse_destructive(changes: Iterable[Change], allow_destructive: bool) -> None:
    """Refuse (exit 3) destructive changes, of either half, without --allow-destructive."""
    destructive = [c for c in changes if c.destructive]
    if destructive and not allow_destructive:
        what = "; ".join(f"{c.action} {c.address} ({why_destructive(c)})" for c in destructive)
        raise Refused(f"destructive changes need --allow-destructive: {what}")


def check(plan: Plan, allow_destructive: bool, changes: Iterable[Change] | None = None) -> None:
    """Everything that refuses an apply before it starts: errors in the plan, then destructive
    ``changes`` (default: all of the plan's) without ``allow_destructive``."""
    check_errors(plan)
    refuse_destructive(plan.changes if changes is None else changes, allow_destructive)
