"""Alembic environment: the target schema is migrations/schema.yaml (see docs/database.md).

Works with the plain alembic CLI (`alembic -c migrations/alembic.ini upgrade head`, the URL from
`-x url=...` or $DATABASE_URL) and with jsctl, which passes an open connection in config.attributes.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import context

from reconciler.db.alembic_env import configure_options, database_url, target_metadata

config = context.config
metadata = target_metadata(Path(__file__).parent)


def run_migrations_offline() -> None:
    """Emit SQL instead of running it (`alembic upgrade --sql`, and the SQL shown by `jsctl plan`)."""
    url = config.attributes.get("offline_url") or database_url(config, offline=True)
    context.configure(url=url, target_metadata=metadata, literal_binds=True, **configure_options())
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, **configure_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = sa.create_engine(database_url(config), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        run_with(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
