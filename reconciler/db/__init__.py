"""Postgres schema management: schema.yaml is the desired schema, migrations/ the Alembic history.

This package is the database half of plan/apply. SQLAlchemy and Alembic are imported only when one
of these functions runs, so importing ``reconciler.db`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path

from ..connection import DatabaseSettings


def upgrade_to_head(database: DatabaseSettings, migrations_dir: Path) -> None:
    """Upgrade a database to the head revision (fresh or scratch databases; see migrate.py)."""
    from .migrate import upgrade_to_head as upgrade

    upgrade(database, migrations_dir)
