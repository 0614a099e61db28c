"""One apply at a time per database: a session advisory lock, named to whoever waits for it."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import Refused, redact
from .settings import DatabaseSettings

# pg_advisory_lock(int, int): a fixed pair, the same for every jsctl applying to this database.
LOCK_KEYS = (0x6A73, 0x6462)  # "js", "db"


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
