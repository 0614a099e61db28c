"""`jsctl ping`: prove that the configured servers are reachable with the configured credentials."""

from __future__ import annotations

import asyncio

import click

from ..db.settings import DatabaseSettings
from ..deadline import Deadline, run
from ..jetstream.settings import NatsSettings
from .options import database_options, environment_options, nats_options, timeout_option


@click.command()
@timeout_option
@environment_options
@nats_options
@database_options
def ping(timeout: Deadline | None, nats: NatsSettings, database: DatabaseSettings) -> None:
    """Connect to NATS (and Postgres when configured) and show what answered."""
    from ..dev.probe import probe_database, probe_nats

    click.echo(run(probe_nats(nats), timeout))
    if database.configured:
        click.echo(run(asyncio.to_thread(probe_database, database), timeout))
