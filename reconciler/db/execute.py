"""Run the database part of a plan: upgrade (or adopt) under the advisory lock (lock.py), then verify.

- DDL runs with ``lock_timeout``/``statement_timeout`` set, and with the settings that casts depend on
  pinned (risk.PINNED_SESSION: TimeZone UTC...), so a timestamptz -> date change gives UTC days
  whatever the database's or role's defaults; one transaction per revision (a revision
  that fails is rolled back; the ones before it stay), CONCURRENTLY work in the revision's own
  autocommit block.
- Only the revisions in the plan are run; drift is never "corrected" by anything but a revision.
- Afterwards the live schema must equal schema.yaml, and its functions, triggers and views those the
  migrations at head create (verify.py); what still differs is returned: drift, which the caller reports.
The plan was checked beforehand (plan/policy.py): this module decides nothing about what may change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ..errors import Refused, UserError
from ..plan.address import DATABASE
from ..plan.model import Action, Change, Plan
from ..plan.policy import ApplyOptions
from .alembic_env import alembic_config, target_metadata
from .connect import connect, first_line
from .history import pending_revisions
from .lock import acquire_lock, release_lock
from .migrate import upgrade
from .observe import observe
from .plan import adoption_mismatch
from .risk import PINNED_SESSION
from .settings import DatabaseSettings
from .verify import OBJECTS_AT_HEAD, differences_from_head

APPLY_APPLICATION_NAME = "jsctl apply"


def database_changes(plan: Plan) -> list[Change]:
    """The changes of ``plan`` that run something on the database (upgrades, an adoption)."""
    return [c for c in plan.changes if c.action in (Action.UPGRADE, Action.ADOPT) and c.address.target == DATABASE]


def check_revisions_unchanged(migrations_dir: Path, plan: Plan, changes: list[Change]) -> None:
    """A saved plan is applied only if each revision still renders the SQL the plan showed."""
    upgrades = [c for c in changes if c.action == Action.UPGRADE]
    if not upgrades:
        return
    now = {r.revision: r.sql for r in pending_revisions(migrations_dir, plan.context.get("database_revision"))}
    for change in upgrades:
        if change.details.revision is None or now.get(change.desired["revision"]) != change.details.revision.sql:
            raise Refused(f"{change.address} is not what the plan showed (its revision file changed or is gone): "
                          "plan again")


def execute(database: DatabaseSettings, migrations_dir: Path, plan: Plan, options: ApplyOptions,
            progress: Callable[[str], None]) -> tuple[list[str], list[Change]]:
    """Run the plan's database changes; returns what was done, one line each, and the drift that remains
    (drift notes: what still differs from schema.yaml and the migrations at head). Raises on refusal or failure."""
    changes = database_changes(plan)
    check_revisions_unchanged(migrations_dir, plan, changes)
    metadata = target_metadata(migrations_dir)
    done: list[str] = []
    with connect(database, APPLY_APPLICATION_NAME) as connection:
        acquire_lock(connection, database, options.lock_timeout)
        try:
            _set_session(connection, options)
            for line in _run(connection, migrations_dir, plan, changes, metadata):
                progress(line)
                done.append(line)
            drift = differences_from_head(connection, metadata, plan.context.get(OBJECTS_AT_HEAD))
        finally:
            release_lock(connection)
    return done, drift


def _run(connection: sa.Connection, migrations_dir: Path, plan: Plan, changes: list[Change],
         metadata: sa.MetaData) -> Iterator[str]:
    """Yield one line per step as it completes, after re-checking the state the plan was made for."""
    state = observe(connection)
    adopt = [c for c in changes if c.action == Action.ADOPT]
    if adopt:
        if state.managed:
            raise Refused("the database was stamped by someone else since the plan: plan again")
        mismatch = adoption_mismatch(connection, metadata, plan.context.get(OBJECTS_AT_HEAD, {}))
        if mismatch:
            raise UserError(mismatch)
        command.stamp(alembic_config(migrations_dir, connection), adopt[0].desired["revision"])
        connection.commit()
        yield f"adopted: stamped at revision {adopt[0].desired['revision']}"
        return
    revisions = [c.desired["revision"] for c in changes if c.action == Action.UPGRADE]
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


def _set_session(connection: sa.Connection, options: ApplyOptions) -> None:
    connection.exec_driver_sql(f"SET lock_timeout = '{int(options.ddl_lock_timeout * 1000)}ms'")
    connection.exec_driver_sql(f"SET statement_timeout = '{int(options.statement_timeout * 1000)}ms'")
    for name, value in PINNED_SESSION.items():
        connection.exec_driver_sql("SELECT set_config(%s, %s, false)", (name, value))
    connection.commit()
