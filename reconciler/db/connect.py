"""Opening Postgres connections through SQLAlchemy, with failures as one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from .settings import DatabaseSettings, database_error

APPLICATION_NAME = "jsctl"
CONNECT_TIMEOUT_S = 5


def create_engine(database: DatabaseSettings, application_name: str = APPLICATION_NAME) -> sa.Engine:
    """An engine whose connections libpq opens from the URL as given: SQLAlchemy's own URL parser knows
    neither several hosts nor libpq's query parameters, and raises a ValueError on what libpq reports."""
    conninfo = database.libpq_url()
    engine = sa.create_engine(
        "postgresql+psycopg://", poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": application_name},
    )

    @sa.event.listens_for(engine, "do_connect")
    def _from_conninfo(dialect, record, cargs: list, cparams: dict) -> None:
        cargs[:] = [conninfo]

    return engine


@contextmanager
def connect(database: DatabaseSettings, application_name: str = APPLICATION_NAME) -> Iterator[sa.Connection]:
    """An open connection (no transaction begun); connection failures become ConnectionFailed."""
    engine = create_engine(database, application_name)
    try:
        connection = engine.connect()
    except sa.exc.OperationalError as exc:
        raise database_error(database, exc.orig or exc) from None
    try:
        yield connection
    finally:
        connection.close()
        engine.dispose()


def server_major(connection: sa.Connection) -> int:
    """The server's major version (16 for 16.2): type limits depend on it."""
    return connection.dialect.server_version_info[0]


def first_line(exc: BaseException) -> str:
    """The driver's message of a database error, without SQLAlchemy's statement and background link."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__
