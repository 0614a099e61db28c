"""The database part of the plan: pending revisions (with SQL and risk flags), drift, coverage.

- Pending revisions: from the live revision to head, each with the SQL Alembic renders offline.
- Drift: the live database compared with what the migrations produce at the live revision (replayed
  on a scratch database), so changes made by hand show and pending revisions explain the rest.
- Coverage: the migrations at head, replayed on the scratch database, must reproduce schema.yaml.
The target database is only read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ..connection import DatabaseSettings
from ..errors import UserError
from ..plan import ADOPT, UPGRADE, Change, Plan
from .alembic_env import target_metadata
from .compare import Sides, current_revision, differences, drift_changes, is_managed, reflect, summarize, user_tables
from .connect import connect, server_major
from .fingerprint import schema_fingerprint
from .migrate import replay_errors, upgrade
from .revision_source import source_data_changes
from .revisions import Revision, head_revision, pending_revisions, script_directory
from .risk import BACKFILL, DESTRUCTIVE_FLAGS, MODIFIES_DATA, ImpossibleCast, StatementRisk, assess
from .schema import load_schema
from .scratch import scratch_database

UNCOVERED = "schema.yaml changed but no revision covers it: run `jsctl db revision -m ...`"
COVERAGE = Sides(live="the migrations at head", expected="schema.yaml")


@dataclass
class LiveState:
    managed: bool
    revision: str | None
    tables: list[str]

    @property
    def foreign(self) -> bool:
        """Tables, but no Alembic history: someone else's database, or one to adopt."""
        return not self.managed and bool(self.tables)


def observe(connection: sa.Connection) -> LiveState:
    managed = is_managed(connection)
    state = LiveState(managed, current_revision(connection) if managed else None, user_tables(connection))
    connection.rollback()
    return state


def column_types(connection: sa.Connection) -> dict[tuple[str, str], str]:
    rows = connection.exec_driver_sql(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped").all()
    connection.rollback()
    return {(table, column): type_ for table, column, type_ in rows}


def _normalized(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").strip()


def revision_risks(revision: Revision, types_before: dict[tuple[str, str], str],
                   migrations_dir: Path) -> list[StatementRisk]:
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
        hidden = StatementRisk(f"{file}:{change.line}: {change.code}")
        hidden.flag(MODIFIES_DATA, f"{change.what} (in the revision file, not in the SQL above)")
        risks.append(hidden)
    return risks


def revision_change(revision: Revision, types_before: dict[tuple[str, str], str], migrations_dir: Path) -> Change:
    risks = revision_risks(revision, types_before, migrations_dir)
    flags = sorted({flag for risk in risks for flag in risk.flags})
    return Change(
        address=f"db/revision/{revision.revision}",
        action=UPGRADE,
        destructive=any(flag in DESTRUCTIVE_FLAGS for flag in flags),
        reason=revision.message or None,
        details={"message": revision.message, "from": revision.down_revision,
                 "file": os.path.relpath(revision.path, migrations_dir), "sql": revision.sql, "flags": flags,
                 "risks": [r.to_dict() for r in risks if r.flags]},
        desired={"revision": revision.revision},
    )


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
            for revision in pending:
                plan.changes.append(revision_change(revision, column_types(scratch), migrations_dir))
                upgrade(scratch, migrations_dir, revision.revision)
            if state.foreign:
                upgrade(scratch, migrations_dir)
            uncovered = differences(scratch, metadata)
        if uncovered:
            plan.errors.append(f"{UNCOVERED} (differences: {summarize(uncovered, COVERAGE)})")
        if state.foreign:
            _plan_adoption(plan, live, metadata, head)
        else:
            reference = f"the migrations at revision {state.revision}" if state.revision else "an empty database"
            plan.changes.extend(drift_changes(differences(live, expected_now), Sides(expected=reference)))
    return plan


def adoption_mismatch(live: sa.Connection, metadata: sa.MetaData) -> str | None:
    """Why the live schema cannot be stamped as it is (checked when planning and again when applying)."""
    mismatch = differences(live, metadata)
    return f"cannot adopt: the database differs from schema.yaml: {summarize(mismatch, Sides())}" if mismatch else None


def _plan_adoption(plan: Plan, live: sa.Connection, metadata: sa.MetaData, head: str | None) -> None:
    mismatch = adoption_mismatch(live, metadata)
    if mismatch:
        plan.errors.append(mismatch)
    elif head:
        plan.changes.append(Change(f"db/revision/{head}", ADOPT, reason="stamp the existing schema at head",
                                   details={"message": "the live schema matches schema.yaml"},
                                   desired={"revision": head}))
