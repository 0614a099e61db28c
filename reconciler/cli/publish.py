"""`jsctl publish`: send UserTransaction events, random or from a JSON-lines file (see docs/worker.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..deadline import Deadline, run
from ..errors import EXIT_ERROR, UserError
from ..jetstream.connect import connect_nats
from ..jetstream.settings import NatsSettings
from .options import PublishSubject, environment_options, nats_options, timeout_option


@click.command()
@environment_options
@nats_options
@click.option("--count", type=click.IntRange(0), default=10, show_default=True, help="Random valid events to send.")
@click.option("--subject", type=PublishSubject(), default="USER_TXN.maker", show_default=True)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Messages per second (default: as fast as acks come back).")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Send each line of this JSON-lines file as is, instead of random events.")
@click.option("--in-flight", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Publishes awaiting their acknowledgement at once.")
@timeout_option
def publish(nats: NatsSettings, count: int, subject: str, rate: float | None, path: Path | None,
            in_flight: int, timeout: Deadline | None) -> None:
    """Publish events, each with a Nats-Msg-Id, and wait for every acknowledgement."""
    from ..worker.publish import file_events, random_events

    if path is not None:
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror or exc}") from None
        events = list(file_events(lines))
        total = len(events)
    else:
        events, total = random_events(count), count
    summary = run(_publish(nats, subject, events, total, in_flight, rate), timeout)
    click.echo(f"published {summary.published}, duplicates {summary.duplicates}, failed {summary.failed}")
    if summary.failed:
        click.echo(f"jsctl: error: {summary.failed} publishes failed; first: {summary.first_error}", err=True)
        sys.exit(EXIT_ERROR)


async def _publish(nats: NatsSettings, subject, events, total, in_flight, rate):
    from ..worker.publish import publish_events

    nc = await connect_nats(nats, name="jsctl-publish")
    try:
        if sys.stderr.isatty():
            with click.progressbar(length=total, label="publishing", file=sys.stderr) as bar:
                return await publish_events(nc, subject, events, in_flight=in_flight, rate=rate,
                                            on_progress=bar.update)
        return await publish_events(nc, subject, events, in_flight=in_flight, rate=rate)
    finally:
        await nc.close()
