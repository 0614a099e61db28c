"""`jsctl up`: a deployment's entrypoint — apply, then run the validator worker.

The apply is `jsctl apply --yes` (a deployment has nobody to ask): destructive changes are refused
(exit 3, the worker does not start) unless `--allow-destructive` is given. The worker then runs with
the options of `jsctl worker`. With `--metrics-port`, /metrics and /healthz are served from the start:
the probe answers 503 "applying" until the worker is running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..errors import UserError
from ..jetstream.settings import NatsSettings
from .options import (
    ONLY_OPTION,
    WorkerSettingsFactory,
    apply_options,
    apply_timeout_option,
    database_target_options,
    environment_options,
    manifest_option,
    nats_options,
    ownership_options,
    target_in_environment,
    worker_options,
)
from .run import run_apply

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..jetstream.ownership import Ownership
    from ..plan.policy import ApplyOptions
    from ..reconcile.target import DatabaseTarget


@click.command()
@environment_options
@manifest_option
@ownership_options
@ONLY_OPTION
@apply_options
@apply_timeout_option
@nats_options
@database_target_options
@worker_options
def up(files: tuple[str, ...], variables: dict[str, Any], ownership: Ownership, only: str | None, options: ApplyOptions,
       timeout: Deadline | None, nats: NatsSettings, database: DatabaseTarget | None,
       worker_settings: WorkerSettingsFactory) -> int:
    """Apply the manifests and migrations (no question asked, never destructive without
    --allow-destructive), then run the validator worker."""
    from ..reconcile.target import Target
    from ..worker.loop import run, start_monitor
    from ..worker.monitor import APPLYING

    if database is None:
        raise UserError("jsctl up needs a database for the worker: give --database-url or set DATABASE_URL")
    settings = worker_settings(nats, database.settings)
    monitor = start_monitor(settings, APPLYING)
    try:
        target = Target(nats, files, database, ownership=ownership, only=only, variables=variables)
        run_apply(target_in_environment(target), options, assume_yes=True, deadline=timeout)
        if timeout is not None:
            timeout.stop()
        return run(settings, monitor)
    finally:
        monitor.close()
