"""What migrations/env.py and jsctl share: target metadata, configure options, the Alembic Config.

env.py stays a standard Alembic environment (the plain ``alembic`` CLI works); jsctl drives the same
environment programmatically, handing it an open connection through ``config.attributes``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.migration import MigrationContext

from .autogen import process_revision_directives
from .column_defaults import GuardedPostgresqlImpl  # noqa: F401  (registers Alembic's implementation for Postgres)
from .metadata import build_metadata
from .schema_yaml import load_schema
from .settings import DatabaseSettings

VERSION_TABLE = "alembic_version"

# Alembic warns about this keyword of alter_column on every Postgres run (revisions written before
# autogen.py dropped it carry it): it means nothing here, and a warning would reach stderr.
warnings.filterwarnings("ignore", message="autoincrement and existing_autoincrement only make sense for MySQL",
                        category=UserWarning)


def target_metadata(migrations_dir: Path) -> sa.MetaData:
    return build_metadata(load_schema(migrations_dir))


def configure_options() -> dict[str, Any]:
    """Options for ``context.configure`` in both online and offline mode."""
    return {
        "compare_type": True,
        "compare_server_default": True,  # with GuardedPostgresqlImpl's comparison
        "transaction_per_migration": True,  # a failing revision rolls back alone, earlier ones stay
        # check constraints are compared by name (Alembic's opt-in plugin), so they are not invisible
        "autogenerate_plugins": ["alembic.autogenerate.*", "alembic.ext.checkconstraint_byname"],
        "process_revision_directives": process_revision_directives,
    }


def migration_context(connection: sa.Connection) -> MigrationContext:
    return MigrationContext.configure(connection, opts=configure_options())


OFFLINE_URL = "postgresql+psycopg://"  # offline (--sql) mode needs only the dialect


def database_url(config: Config, *, offline: bool = False) -> str:
    """For the plain alembic CLI: ``-x url=...``, else $DATABASE_URL, else sqlalchemy.url in alembic.ini."""
    from alembic import context

    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("DATABASE_URL") \
        or config.get_main_option("sqlalchemy.url")
    if not url:
        if offline:
            return OFFLINE_URL
        raise SystemExit("no database URL: pass -x url=postgresql://... or set DATABASE_URL")
    return DatabaseSettings(url).sqlalchemy_url()


def alembic_config(migrations_dir: Path, connection: sa.Connection | None = None, *,
                   output_buffer: Any = None, **attributes: Any) -> Config:
    """A Config for ``migrations_dir`` (its alembic.ini, if any); ``connection`` is what env.py will use."""
    ini = migrations_dir / "alembic.ini"
    config = Config(str(ini) if ini.is_file() else None, output_buffer=output_buffer)
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["connection"] = connection
    config.attributes.update(attributes)
    return config
