"""`jsctl force-unlock ID`: remove an apply lock left by a process that is gone."""

from __future__ import annotations

import click

from ..deadline import Deadline, run
from ..jetstream.settings import NatsSettings
from .options import environment_options, nats_options, timeout_option


@click.command("force-unlock")
@click.argument("lock_id", metavar="ID")
@timeout_option
@environment_options
@nats_options
def force_unlock(lock_id: str, timeout: Deadline | None, nats: NatsSettings) -> None:
    """Remove the apply lock with this ID (shown in the message of the apply that was refused).

    Only for a lock whose holder is gone: an apply still running loses its lock and stops.
    """
    from ..terminal import printable

    click.echo(printable(f"removed the apply lock: {run(_unlock(nats, lock_id), timeout).describe()}"))


async def _unlock(settings: NatsSettings, lock_id: str):
    from ..jetstream.connect import connect_nats
    from ..jetstream.lock import force_unlock as remove
    from ..jetstream.settings import api_prefix

    nc = await connect_nats(settings, name="jsctl force-unlock")
    try:
        return await remove(nc, lock_id, prefix=api_prefix(settings))
    finally:
        await nc.close()
