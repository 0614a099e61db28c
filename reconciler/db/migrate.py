"""Running Alembic migrations on an open connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ..errors import UserError
from .alembic_env import alembic_config
from .connect import connect, first_line
from .settings import DatabaseSettings


def upgrade(connection: sa.Connection, migrations_dir: Path, target: str = "head") -> None:
    """Upgrade to ``target``, one transaction per revision (env.py sets transaction_per_migration).

    Alembic treats a connection already in a transaction as "external" and then neither begins nor
    commits per revision, so the connection is left idle before and after.
    """
    if connection.in_transaction():
        connection.commit()
    command.upgrade(alembic_config(migrations_dir, connection), target)
    if connection.in_transaction():
        connection.commit()


@contextmanager
def replay_errors(migrations_dir: Path) -> Iterator[None]:
    """A revision that fails on a scratch database is the revision's fault: say so in one line."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise UserError(f"replaying {migrations_dir}/versions on a scratch database failed: {first_line(exc)}") \
            from None


def upgrade_to_head(database: DatabaseSettings, migrations_dir: Path) -> None:
    """Upgrade ``database`` to the head revision of ``migrations_dir`` (no locks, no checks: for fresh
    databases, scratch databases and tests; ``apply_database`` is the safe path for real ones)."""
    with connect(database) as connection:
        upgrade(connection, migrations_dir)
