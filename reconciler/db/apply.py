"""Apply the database part of a plan: upgrade (or adopt) under an advisory lock, then verify.

- One session advisory lock per database serializes appliers; a second one waits up to
  ``lock_timeout`` and then fails naming the holder (pid, application_name, client address).
- DDL runs with ``lock_timeout``/``statement_timeout`` set, and with the settings that casts depend on
  pinned (risk.PINNED_SESSION: TimeZone UTC...), so a timestamptz -> date change gives UTC days
  whatever the database's or role's defaults; one transaction per revision (a revision
  that fails is rolled back; the ones before it stay), CONCURRENTLY work in the revision's own
  autocommit block.
- Only the revisions in the plan are run; drift is never "corrected" by anything but a revision.
- Afterwards the live schema must equal schema.yaml; any remainder is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ..connection import DatabaseSettings, redact
from ..errors import Refused, UserError
from ..plan import ADOPT, UPGRADE, Change, Plan
from ..reconcile import is_database, refuse_destructive
from .alembic_env import alembic_config, target_metadata
from .compare import Sides, differences, summarize
from .connect import connect, first_line
from .migrate import upgrade
from .planner import adoption_mismatch, observe
from .revisions import pending_revisions
from .risk import PINNED_SESSION
from .settings import ApplySettings

# pg_advisory_lock(int, int): a fixed pair, the same for every jsctl applying to this database.
LOCK_KEYS = (0x6A73, 0x6462)  # "js", "db"
APPLY_APPLICATION_NAME = "jsctl apply"


def database_changes(plan: Plan) -> list[Change]:
    return [c for c in plan.changes if is_database(c) and c.action in (UPGRADE, ADOPT)]


def check_revisions_unchanged(migrations_dir: Path, plan: Plan, changes: list[Change]) -> None:
    """A saved plan is applied only if each revision still renders the SQL the plan showed."""
    upgrades = [c for c in changes if c.action == UPGRADE]
    if not upgrades:
        return
    now = {r.revision: r.sql for r in pending_revisions(migrations_dir, plan.context.get("database_revision"))}
    for change in upgrades:
        if now.get(change.desired["revision"]) != change.details.get("sql"):
            raise Refused(f"{change.address} is not what the plan showed (its revision file changed or is gone): "
                          "plan again")


def apply_database(database: DatabaseSettings, migrations_dir: Path, plan: Plan,
                   settings: ApplySettings | None = None,
                   progress: Callable[[str], None] = lambda line: None) -> list[str]:
    """Run the plan's database changes; returns what was done, one line each. Raises on refusal or failure."""
    settings = settings or ApplySettings()
    if plan.errors:
        raise UserError(f"the plan has errors; not applying: {plan.errors[0]}")
    changes = database_changes(plan)
    refuse_destructive(changes, settings.allow_destructive)
    check_revisions_unchanged(migrations_dir, plan, changes)
    metadata = target_metadata(migrations_dir)
    done: list[str] = []
    with connect(database, APPLY_APPLICATION_NAME) as connection:
        acquire_lock(connection, database, settings.lock_timeout)
        try:
            _set_session(connection, settings)
            for line in _run(connection, migrations_dir, plan, changes, metadata):
                progress(line)
                done.append(line)
            remainder = differences(connection, metadata)
            if remainder:
                raise UserError(f"after the upgrade the database still differs from schema.yaml "
                                f"(drift no revision corrects): {summarize(remainder, Sides())}")
        finally:
            release_lock(connection)
    return done


def _run(connection: sa.Connection, migrations_dir: Path, plan: Plan, changes: list[Change],
         metadata: sa.MetaData) -> Iterator[str]:
    """Yield one line per step as it completes, after re-checking the state the plan was made for."""
    state = observe(connection)
    adopt = [c for c in changes if c.action == ADOPT]
    if adopt:
        if state.managed:
            raise Refused("the database was stamped by someone else since the plan: plan again")
        mismatch = adoption_mismatch(connection, metadata)
        if mismatch:
            raise UserError(mismatch)
        command.stamp(alembic_config(migrations_dir, connection), adopt[0].desired["revision"])
        connection.commit()
        yield f"adopted: stamped at revision {adopt[0].desired['revision']}"
        return
    revisions = [c.desired["revision"] for c in changes if c.action == UPGRADE]
    start = plan.context.get("database_revision")
    if state.revision in revisions:  # another apply got (part of) the way already
        revisions = revisions[revisions.index(state.revision) + 1:]
    elif state.revision != start:
        raise Refused(f"the database is at revision {state.revision} but the plan was made at {start}: plan again")
    previous = state.revision
    for revision in revisions:
        try:
            upgrade(connection, migrations_dir, revision)
        except sa.exc.DBAPIError as exc:
            connection.rollback()
            raise UserError(f"revision {revision} failed and was rolled back; the database stays at revision "
                            f"{previous}: {first_line(exc)}") from None
        previous = revision
        yield f"upgraded to revision {revision}"


def _set_session(connection: sa.Connection, settings: ApplySettings) -> None:
    connection.exec_driver_sql(f"SET lock_timeout = '{int(settings.ddl_lock_timeout * 1000)}ms'")
    connection.exec_driver_sql(f"SET statement_timeout = '{int(settings.statement_timeout * 1000)}ms'")
    for name, value in PINNED_SESSION.items():
        connection.exec_driver_sql("SELECT set_config(%s, %s, false)", (name, value))
    connection.commit()


def acquire_lock(connection: sa.Connection, database: DatabaseSettings, timeout: float) -> None:
    """Take the apply lock, waiting at most ``timeout`` seconds (Postgres' lock_timeout bounds the wait)."""
    connection.exec_driver_sql(f"SET lock_timeout = '{max(1, int(timeout * 1000))}ms'")
    try:
        connection.exec_driver_sql("SELECT pg_advisory_lock(%s, %s)", LOCK_KEYS)
        connection.commit()
    except sa.exc.OperationalError as exc:
        connection.rollback()
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        holder = lock_holder(connection)
        raise Refused(redact(f"another apply holds the lock on {database.display_url} ({holder}); gave up "
                             f"after {timeout:g}s (--lock-timeout)", database.secrets())) from None


def lock_holder(connection: sa.Connection) -> str:
    row = connection.exec_driver_sql(
        "SELECT a.pid, a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2", LOCK_KEYS).first()
    connection.rollback()
    if row is None:
        return "holder gone"
    pid, application, address, since = row
    return (f"pid {pid}, application_name {application or '-'}, client {address or 'local socket'}, "
            f"connected since {since:%Y-%m-%d %H:%M:%S%z}")


def release_lock(connection: sa.Connection) -> None:
    if connection.closed:
        return
    connection.rollback()
    connection.exec_driver_sql("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEYS)
    connection.commit()
