"""Scratch databases: where jsctl replays migrations to learn what they produce, never the target.

With ``--dev-url`` (a Postgres server the user provides, needing CREATEDB) a temporary database
``jsctl_scratch_<random>`` is created there and dropped afterwards; without it, a throwaway embedded
Postgres (reconciler/dev/servers.py) runs in a temporary directory for the duration. Its data directory
is copied from a template initialized once and kept in ``$XDG_CACHE_HOME/jsctl`` (initdb costs
seconds; a copy and a start cost a fraction of one).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from ..deadline import if_abandoned
from ..errors import UserError, redact
from .connect import connect, first_line
from .settings import DatabaseSettings


@contextlib.contextmanager
def scratch_database(dev_url: str | None) -> Iterator[DatabaseSettings]:
    """A database that exists for the duration of the ``with`` block."""
    if dev_url:
        with _temporary_database(DatabaseSettings(dev_url)) as database:
            yield database
        return
    from ..dev.servers import PostgresServer

    template = _template()
    with tempfile.TemporaryDirectory(prefix="jsctl-scratch-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(template / "data", data, symlinks=True)
        server = PostgresServer(data, password=(template / "password").read_text()).start()

        def discard() -> None:  # by --timeout's watchdog, which exits without unwinding this block
            server.kill()
            shutil.rmtree(tmp, ignore_errors=True)

        try:
            with if_abandoned(discard):
                yield DatabaseSettings(server.url())
        finally:
            server.stop("immediate")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jsctl"


def _template() -> Path:
    """An initialized, stopped data directory (and its superuser password), made on first use.

    initdb runs in a temporary directory (dev/servers.py opens its parents to the Postgres user) and
    the result is renamed into the cache, so concurrent first uses never see half a template.
    """
    from ..dev.servers import PostgresServer, postgres_bin_dir

    try:
        binary = postgres_bin_dir() / "postgres"
    except UserError:
        raise UserError("planning the database replays the migrations in a scratch Postgres: pass --dev-url "
                        "(or JSCTL_DEV_DATABASE_URL) naming a Postgres where jsctl may create databases, or "
                        "install the embedded one (pip install 'jsctl[embedded]')") from None
    key = hashlib.sha256(f"{binary}:{binary.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    template = _cache_dir() / f"scratch-postgres-{key}"
    if (template / "data" / "PG_VERSION").is_file():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    password = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="jsctl-initdb-") as tmp:
        PostgresServer(Path(tmp) / "data", password=password).init()
        staged = Path(tempfile.mkdtemp(prefix=".staging-", dir=template.parent))
        shutil.copytree(Path(tmp) / "data", staged / "data", symlinks=True)
    (staged / "password").write_text(password)
    (staged / "password").chmod(0o600)
    try:
        staged.rename(template)
    except OSError:  # another jsctl made it first
        shutil.rmtree(staged, ignore_errors=True)
    return template


@contextlib.contextmanager
def _temporary_database(server: DatabaseSettings) -> Iterator[DatabaseSettings]:
    name = f"jsctl_scratch_{uuid.uuid4().hex[:12]}"
    with connect(server) as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.DBAPIError as exc:
            raise UserError(redact(f"cannot create a scratch database on --dev-url {server.display_url}: "
                                   f"{first_line(exc)}", server.secrets())) from None
        try:
            yield DatabaseSettings(_with_database(server.url or "", name))
        finally:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
