"""Options shared by several commands: connections (README, "Connections"), publish subjects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import keep_secret
from ..jetstream.settings import DatabaseSettings, NatsSettings, resolve_nats_settings

_NATS_OPTIONS = [
    click.option("--server", "-s", "url", envvar="NATS_URL", metavar="URL[,URL...]",
                 help="NATS server URL(s), comma-separated for a cluster [env NATS_URL; default nats://127.0.0.1:4222]."),
    click.option("--nkey", envvar="NATS_NKEY", metavar="SEEDFILE", help="User nkey seed file [env NATS_NKEY]."),
    click.option("--creds", envvar="NATS_CREDS", metavar="FILE", help="Credentials file [env NATS_CREDS]."),
    click.option("--user", envvar="NATS_USER", help="User name [env NATS_USER]."),
    click.option("--password", envvar="NATS_PASSWORD", help="Password [env NATS_PASSWORD]."),
    click.option("--token", envvar="NATS_TOKEN", help="Authentication token [env NATS_TOKEN]."),
    click.option("--tls-ca", envvar="NATS_CA", metavar="FILE", help="CA certificate [env NATS_CA]."),
    click.option("--tls-cert", envvar="NATS_CERT", metavar="FILE", help="Client certificate [env NATS_CERT]."),
    click.option("--tls-key", envvar="NATS_KEY", metavar="FILE", help="Client certificate key [env NATS_KEY]."),
    click.option("--context", envvar="NATS_CONTEXT", metavar="NAME",
                 help="natscli context to read connection settings from [env NATS_CONTEXT]."),
]

_DATABASE_OPTIONS = [
    click.option("--database-url", envvar="DATABASE_URL", metavar="URL",
                 help="Postgres URL, postgresql://user:password@host:port/db [env DATABASE_URL]."),
]

class PublishSubject(click.ParamType):
    """A literal subject to publish on: one whitespace or wildcard would not reach the intended stream
    (and, with the worker's batched writes, would break the protocol line)."""

    name = "SUBJECT"

    def convert(self, value, param, ctx):
        from ..manifest.subjects import has_wildcard, subject_problem

        problem = subject_problem(value)
        if problem is None and has_wildcard(value):
            problem = f"subject {value!r} has a wildcard: messages are published on literal subjects"
        if problem:
            self.fail(problem, param, ctx)
        return value


_NATS_FIELDS = ("url", "nkey", "creds", "user", "password", "token", "tls_ca", "tls_cert", "tls_key", "context")


def add_options(options: list, func: Callable) -> Callable:
    """Decorate ``func`` with click options, shown in ``--help`` in the order listed."""
    for option in reversed(options):
        func = option(func)
    return func


def nats_options(func: Callable) -> Callable:
    """Add the NATS connection flags; the command receives ``nats: NatsSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = NatsSettings(**{name: kwargs.pop(name) for name in _NATS_FIELDS})
        keep_secret(*given.secrets())
        settings = resolve_nats_settings(given)
        keep_secret(*settings.secrets())
        return func(*args, nats=settings, **kwargs)

    return add_options(_NATS_OPTIONS, wrapper)


def database_options(func: Callable) -> Callable:
    """Add ``--database-url``; the command receives ``database: DatabaseSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        database = DatabaseSettings(kwargs.pop("database_url"))
        keep_secret(*database.secrets())
        return func(*args, database=database, **kwargs)

    return add_options(_DATABASE_OPTIONS, wrapper)


def _secret_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    keep_secret(*DatabaseSettings(value).secrets())
    return value


MIGRATIONS_OPTION = click.option(
    "--migrations", "migrations_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("migrations"),
    show_default=True, help="The Alembic migrations directory with schema.yaml (used when a database is configured).")
DEV_URL_OPTION = click.option(
    "--dev-url", envvar="JSCTL_DEV_DATABASE_URL", metavar="URL", callback=_secret_url,
    help="Postgres server for scratch databases (needs CREATEDB) [env JSCTL_DEV_DATABASE_URL; "
         "default: a throwaway embedded Postgres].")
_ADOPT_OPTION = click.option("--adopt", is_flag=True,
                             help="Stamp a database that has the schema but no Alembic history at head.")


def database_target_options(func: Callable) -> Callable:
    """Add ``--database-url``, ``--migrations``, ``--dev-url`` and ``--adopt``; the command receives
    ``database: DatabaseTarget | None`` (None when no database is configured)."""

    @functools.wraps(func)
    def wrapper(*args: Any, database: DatabaseSettings, **kwargs: Any) -> Any:
        from ..reconcile.plan import DatabaseTarget

        target = DatabaseTarget.configured(database, kwargs.pop("migrations_dir"), kwargs.pop("dev_url"),
                                           kwargs.pop("adopt"))
        return func(*args, database=target, **kwargs)

    return database_options(add_options([MIGRATIONS_OPTION, DEV_URL_OPTION, _ADOPT_OPTION], wrapper))


_APPLY_OPTIONS = [
    click.option("--allow-destructive", is_flag=True,
                 help="Allow changes that lose data: JetStream replace and delete, database revisions that drop "
                      "tables, columns, indexes or constraints."),
    click.option("--lock-timeout", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
                 help="How long to wait for another apply holding the lock (then exit 3)."),
    click.option("--ddl-lock-timeout", type=click.FloatRange(min=0), default=10, show_default=True,
                 metavar="SECONDS", help="Postgres lock_timeout for each DDL statement."),
    click.option("--statement-timeout", type=click.FloatRange(min=0), default=900, show_default=True,
                 metavar="SECONDS", help="Postgres statement_timeout for each statement (0: none)."),
    click.option("--converge-timeout", type=click.FloatRange(min=0), default=60, show_default=True,
                 metavar="SECONDS", help="On a cluster, how long to wait for each stream or consumer written to "
                                         "have its replicas current (then exit 1)."),
]


def apply_options(func: Callable) -> Callable:
    """Add what decides how apply may change things; the command receives ``options: ApplyOptions``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..reconcile.plan import ApplyOptions

        options = ApplyOptions(kwargs.pop("allow_destructive"), kwargs.pop("lock_timeout"),
                               kwargs.pop("ddl_lock_timeout"), kwargs.pop("statement_timeout"),
                               converge_timeout=kwargs.pop("converge_timeout"))
        return func(*args, options=options, **kwargs)

    return add_options(_APPLY_OPTIONS, wrapper)
