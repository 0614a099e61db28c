"""`jsctl export`: write streams.yaml / consumers.yaml from the live account (non-default fields only)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ..jetstream.settings import NatsSettings
from .options import nats_options


async def _export(nats: NatsSettings, streams: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    from ..errors import UserError
    from ..jetstream.export import export_manifests
    from ..jetstream.session import JetStreamSession

    async with JetStreamSession(nats, name="jsctl export") as session:
        live = await session.observe(set(streams) if streams else None)
    missing = sorted(set(streams) - live.streams.keys())
    if missing:
        raise UserError(f"no such stream: {', '.join(missing)}")
    return export_manifests(live, set(streams) if streams else None)


@click.command()
@click.option("--stream", "streams", multiple=True, metavar="NAME", help="Export only this stream (repeatable).")
@click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where to write streams.yaml and consumers.yaml.")
@nats_options
def export(streams: tuple[str, ...], directory: str, nats: NatsSettings) -> None:
    """Write manifests for the live streams and consumers."""
    import yaml

    stream_items, consumer_items = asyncio.run(_export(nats, streams))
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for filename, key, items in (("streams.yaml", "streams", stream_items),
                                 ("consumers.yaml", "consumers", consumer_items)):
        (target / filename).write_text(yaml.safe_dump({key: items}, sort_keys=False, allow_unicode=True))
    click.echo(f"wrote {len(stream_items)} streams and {len(consumer_items)} consumers to {target}/")
