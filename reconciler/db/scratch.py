"""Scratch databases: where jsctl replays migrations to learn what they produce, never the target.

With ``--dev-url`` (a Postgres server the user provides, needing CREATEDB) a temporary database
``jsctl_scratch_<random>`` is created there and dropped afterwards; without it, a throwaway embedded
Postgres (reconciler.localservers) runs in a temporary directory for the duration.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..connection import DatabaseSettings
from .connect import connect


@contextlib.contextmanager
def scratch_database(dev_url: str | None) -> Iterator[DatabaseSettings]:
    if dev_url:
        with _temporary_database(DatabaseSettings(dev_url)) as database:
            yield database
        return
    from ..localservers import PostgresServer

    with tempfile.TemporaryDirectory(prefix="jsctl-scratch-") as tmp:
        server = PostgresServer(Path(tmp) / "data", password=uuid.uuid4().hex).start()
        try:
            yield DatabaseSettings(server.url())
        finally:
            server.stop("immediate")


@contextlib.contextmanager
def _temporary_database(server: DatabaseSettings) -> Iterator[DatabaseSettings]:
    name = f"jsctl_scratch_{uuid.uuid4().hex[:12]}"
    with connect(server) as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield DatabaseSettings(_with_database(server.url or "", name))
        finally:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
