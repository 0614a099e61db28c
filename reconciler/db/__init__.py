"""Postgres schema management: schema.yaml is the desired schema, migrations/ the Alembic history.

This package is the database half of plan/apply. SQLAlchemy and Alembic are imported only when one
of these functions runs, so importing ``reconciler.db`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..plan.model import Plan
from ..plan.policy import ApplyOptions, check
from .settings import DatabaseSettings

__all__ = ["ApplyOptions", "apply_database", "database_basis", "plan_database", "upgrade_to_head"]


def upgrade_to_head(database: DatabaseSettings, migrations_dir: Path) -> None:
    """Upgrade a database to the head revision (fresh or scratch databases; see migrate.py)."""
    from .migrate import upgrade_to_head as upgrade

    upgrade(database, migrations_dir)


def plan_database(database: DatabaseSettings, migrations_dir: Path, *, dev_url: str | None = None,
                  adopt: bool = False) -> Plan:
    """The database part of the plan (pending revisions, drift, coverage errors); see plan.py."""
    from .plan import plan_database as plan

    return plan(database, migrations_dir, dev_url=dev_url, adopt=adopt)


def database_basis(database: DatabaseSettings) -> dict[str, str | None]:
    """What a saved plan checks before applying: the live revision and the schema's fingerprint
    (the same values ``plan_database`` records as ``database_revision`` and ``database_schema``)."""
    from .connect import connect
    from .fingerprint import schema_fingerprint
    from .observe import observe

    with connect(database) as connection:
        return {"revision": observe(connection).revision, "schema": schema_fingerprint(connection)}


def apply_database(database: DatabaseSettings, migrations_dir: Path, plan: Plan,
                   options: ApplyOptions | None = None, progress: Callable[[str], None] | None = None) -> list[str]:
    """Apply the plan's database changes under the database's lock, then verify (see execute.py).

    Refused like ``jsctl apply`` (plan/policy.py): a plan with errors, destructive changes without
    ``allow_destructive``. (``jsctl apply`` checks the joint plan once and runs execute.py itself.)
    Raises ``reconciler.errors.DriftRemains`` when the database still differs from its migrations after.
    """
    from ..errors import DriftRemains
    from .diff import one_line
    from .execute import database_changes, execute

    options = options or ApplyOptions()
    check(plan, options.allow_destructive, database_changes(plan))
    done, drift = execute(database, migrations_dir, plan, options, progress or (lambda line: None))
    if drift:
        raise DriftRemains(one_line(drift), upgraded=bool(done))
    return done
