"""`jsctl ping`: prove that the configured servers are reachable with the configured credentials."""

from __future__ import annotations

import asyncio

import click

from ..db.settings import DatabaseSettings
from ..jetstream.settings import NatsSettings
from .options import database_options, nats_options


@click.command()
@nats_options
@database_options
def ping(nats: NatsSettings, database: DatabaseSettings) -> None:
    """Connect to NATS (and Postgres when configured) and show what answered."""
    from ..dev.probe import probe_database, probe_nats

    click.echo(asyncio.run(probe_nats(nats)))
    if database.configured:
        click.echo(probe_database(database))
