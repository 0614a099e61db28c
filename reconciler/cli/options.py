"""Connection options shared by every command that connects (README, "Connections")."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from ..connection import DatabaseSettings, NatsSettings, resolve_nats_settings
from ..errors import keep_secret

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

_NATS_FIELDS = ("url", "nkey", "creds", "user", "password", "token", "tls_ca", "tls_cert", "tls_key", "context")


def _apply(options: list, func: Callable) -> Callable:
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

    return _apply(_NATS_OPTIONS, wrapper)


def database_options(func: Callable) -> Callable:
    """Add ``--database-url``; the command receives ``database: DatabaseSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        database = DatabaseSettings(kwargs.pop("database_url"))
        keep_secret(*database.secrets())
        return func(*args, database=database, **kwargs)

    return _apply(_DATABASE_OPTIONS, wrapper)
