"""The database part of the plan: pending revisions (with SQL and risk flags), drift, coverage.

- Pending revisions: from the live revision to head, each with the SQL Alembic renders offline.
- Drift: the live database compared with what the migrations produce at the live revision (replayed
  on a scratch database), so changes made by hand show and pending revisions explain the rest: its
  tables (Alembic's comparison) and its functions, triggers and views (code_objects.py).
- Coverage: the migrations at head, replayed on the scratch database, must reproduce schema.yaml.
The target database is only read.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import sqlalchemy as sa

from ..errors import UserError
from ..plan.address import DB_REVISION
from ..plan.details import BACKFILL, MODIFIES_DATA, Details, RevisionInfo, Risk
from ..plan.model import Action, Change, Plan
from ..plan.policy import is_destructive
from .alembic_env import target_metadata
from .code_objects import digests, object_drift, observe_objects
from .connect import connect, server_major
from .diff import Sides, differences, drift_changes, one_line, reflect, summarize
from .fingerprint import schema_fingerprint
from .history import Revision, head_revision, pending_revisions, script_directory
from .migrate import replay_errors, upgrade
from .observe import column_types, observe
from .revision_source import source_data_changes
from .risk import ImpossibleCast, assess
from .schema_yaml import load_schema
from .scratch import scratch_database
from .settings import DatabaseSettings
from .verify import OBJECTS_AT_HEAD, differences_from_head

UNCOVERED = "schema.yaml changed but no revision covers it: run `jsctl db revision -m ...`"
COVERAGE = Sides(live="the migrations at head", expected="schema.yaml")


def _normalized(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").strip()


def revision_risks(revision: Revision, types_before: dict[tuple[str, str], str], migrations_dir: Path) -> list[Risk]:
    """The risks of the revision's SQL, plus data changes its file makes that the SQL does not show."""
    file = os.path.relpath(revision.path, migrations_dir)
    try:
        risks = assess(revision.statements, types_before)
    except ImpossibleCast as exc:
        raise UserError(f"{file}: revision {revision.revision}: {exc}") from None
    shown = {_normalized(sql) for sql, _ in revision.statements}
    changes_shown = any(flag in (MODIFIES_DATA, BACKFILL) for risk in risks for flag in risk.flags)
    for change in source_data_changes(Path(revision.path)):
        if (_normalized(change.sql) in shown) if change.sql is not None else changes_shown:
            continue  # the SQL above has it
        hidden = Risk(f"{file}:{change.line}: {change.code}")
        hidden.flag(MODIFIES_DATA, f"{change.what} (in the revision file, not in the SQL above)")
        risks.append(hidden)
    return risks


def revision_change(revision: Revision, types_before: dict[tuple[str, str], str], migrations_dir: Path,
                    live: Collection[str]) -> Change:
    """The upgrade running ``revision``: its SQL and risks; destructive (plan/policy.py) when it would
    lose something of ``live``, the tables and indexes the database holds now."""
    risks = [risk for risk in revision_risks(revision, types_before, migrations_dir) if risk.findings]
    details = Details(revision.message, RevisionInfo(revision.down_revision,
                                                     os.path.relpath(revision.path, migrations_dir), revision.sql,
                                                     risks))
    return Change(DB_REVISION.address(revision.revision), Action.UPGRADE,
                  destructive=is_destructive(Action.UPGRADE, details, live), reason=revision.message or None,
                  details=details, desired={"revision": revision.revision})


def plan_database(database: DatabaseSettings, migrations_dir: Path, *, dev_url: str | None = None,
                  adopt: bool = False) -> Plan:
    """Plan the database: Changes (upgrade/adopt actions, drift notes), errors, and context."""
    metadata = target_metadata(migrations_dir)
    head = head_revision(script_directory(migrations_dir))
    plan = Plan(context={"database": database.display_url, "database_head": head})
    with connect(database) as live:
        load_schema(migrations_dir, server_major(live))  # the target's own type limits
        state = observe(live)
        plan.context["database_revision"] = state.revision
        plan.context["database_schema"] = schema_fingerprint(live)  # what a saved plan was made on
        if state.foreign and not adopt:
            plan.errors.append(
                f"database {database.display_url} has tables ({', '.join(state.tables[:5])}"
                f"{', ...' if len(state.tables) > 5 else ''}) but no Alembic history (no alembic_version table): "
                "use --adopt to stamp it at head once its schema matches schema.yaml")
            return plan
        pending = [] if state.foreign else pending_revisions(migrations_dir, state.revision)
        with scratch_database(dev_url) as scratch_settings, connect(scratch_settings) as scratch, \
                replay_errors(migrations_dir):
            if state.revision:
                upgrade(scratch, migrations_dir, state.revision)
            expected_now = reflect(scratch)
            objects_now = observe_objects(scratch)
            for revision in pending:
                plan.changes.append(revision_change(revision, column_types(scratch), migrations_dir, state.relations))
                upgrade(scratch, migrations_dir, revision.revision)
            if state.foreign:
                upgrade(scratch, migrations_dir)
            uncovered = differences(scratch, metadata)
            objects_at_head = digests(observe_objects(scratch))
        plan.context[OBJECTS_AT_HEAD] = objects_at_head  # what apply verifies (execute.py)
        if uncovered:
            plan.errors.append(f"{UNCOVERED} (differences: {summarize(uncovered, COVERAGE)})")
        if state.foreign:
            _plan_adoption(plan, live, metadata, head)
        else:
            reference = Sides(expected=f"the migrations at revision {state.revision}" if state.revision
                              else "an empty database")
            plan.changes.extend(drift_changes(differences(live, expected_now), reference))
            plan.changes.extend(object_drift(observe_objects(live), objects_now, reference))
    return plan


def adoption_mismatch(live: sa.Connection, metadata: sa.MetaData, objects_at_head: dict[str, str]) -> str | None:
    """Why the live schema cannot be stamped as it is (checked when planning and again when applying):
    its tables differ from schema.yaml, or its functions, triggers and views from the migrations at head."""
    mismatch = differences_from_head(live, metadata, objects_at_head)
    return f"cannot adopt: the database differs: {one_line(mismatch)}" if mismatch else None


def _plan_adoption(plan: Plan, live: sa.Connection, metadata: sa.MetaData, head: str | None) -> None:
    mismatch = adoption_mismatch(live, metadata, plan.context[OBJECTS_AT_HEAD])
    if mismatch:
        plan.errors.append(mismatch)
    elif head:
        plan.changes.append(Change(DB_REVISION.address(head), Action.ADOPT, reason="stamp the existing schema at head",
                                   details=Details(message="the live schema matches schema.yaml"),
                                   desired={"revision": head}))
