"""Running Alembic migrations against a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from ..connection import DatabaseSettings
from .alembic_env import alembic_config
from .connect import connect


def upgrade_to_head(database: DatabaseSettings, migrations_dir: Path) -> None:
    """Upgrade ``database`` to the head revision of ``migrations_dir`` (no locks, no checks: for fresh
    databases, scratch databases and tests; ``apply_database`` is the safe path for real ones)."""
    with connect(database) as connection:
        command.upgrade(alembic_config(migrations_dir, connection), "head")
