"""`jsctl worker`: the validator worker (see docs/worker.md)."""

from __future__ import annotations

import click

from ..db.settings import DatabaseSettings
from ..jetstream.settings import NatsSettings
from .options import (
    WorkerSettingsFactory,
    database_options,
    environment_options,
    nats_options,
    worker_options,
)


@click.command()
@environment_options
@nats_options
@database_options
@worker_options
def worker(nats: NatsSettings, database: DatabaseSettings, worker_settings: WorkerSettingsFactory) -> int:
    """Validate UserTransaction events against user thresholds, record them once, publish verdicts."""
    from ..worker.loop import run

    return run(worker_settings(nats, database))
