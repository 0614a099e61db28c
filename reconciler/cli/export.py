"""`jsctl export`: write streams.yaml, consumers.yaml and buckets.yaml from the live account
(docs/plan-apply.md, "Export")."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..jetstream.settings import NatsSettings
from .options import environment_options, nats_options, timeout_option

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..jetstream.export import Exported
    from ..manifest.write import Source


async def _export(nats: NatsSettings, streams: tuple[str, ...], include_defaults: bool) -> tuple[Exported, Source]:
    from datetime import datetime, timezone

    from .. import __version__
    from ..errors import UserError
    from ..jetstream.bucket_streams import stream_address
    from ..jetstream.buckets import bucket_of
    from ..jetstream.export import export_manifests
    from ..jetstream.session import JetStreamSession
    from ..manifest.write import Source
    from ..url_credentials import redact_url

    async with JetStreamSession(nats, name="jsctl export") as session:
        live = await session.observe(set(streams) if streams else None)
        assert session.api is not None
        server = redact_url(session.api.nc.connected_url.geturl()) if session.api.nc.connected_url else ""
    missing = sorted(set(streams) - live.streams.keys())
    if missing:
        raise UserError(f"no such stream: {', '.join(missing)}")
    buckets = sorted(str(stream_address(name, live.streams[name]["config"])) for name in streams
                     if bucket_of(live.streams[name]["config"]))
    if buckets:  # --stream merges streams.yaml and consumers.yaml only
        raise UserError(f"--stream names the backing stream of {', '.join(buckets)}: a bucket is exported as one "
                        "(buckets.yaml) by an export without --stream")
    identity = live.identity
    source = Source(__version__, datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    server, identity.version, identity.name, identity.account, identity.domain,
                    tuple(sorted(set(streams))))
    return export_manifests(live, set(streams) if streams else None, include_defaults=include_defaults), source


def _buckets(exported: Exported) -> dict[str, list]:
    return {"key_value": exported.key_value, "object_stores": exported.object_stores}


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@click.command()
@click.option("--stream", "streams", multiple=True, metavar="NAME",
              help="Export only this stream and its consumers (repeatable), merged into the files that exist.")
@click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where to write streams.yaml, consumers.yaml, buckets.yaml and manifest.schema.json.")
@click.option("--force", is_flag=True,
              help="Overwrite streams.yaml and consumers.yaml when they exist (--stream merges into them instead).")
@click.option("--stdout", "to_stdout", is_flag=True,
              help="Print the manifests (one document with streams: and consumers:) instead of writing files.")
@click.option("--include-defaults", is_flag=True,
              help="Write every field as the server stores it, not only those that differ from its defaults.")
@timeout_option
@environment_options
@nats_options
@click.pass_context
def export(ctx: click.Context, streams: tuple[str, ...], directory: str, force: bool, to_stdout: bool,
           include_defaults: bool, timeout: Deadline | None, nats: NatsSettings) -> None:
    """Write manifests for the live streams, consumers, KV buckets and object stores.

    A full export refuses to overwrite existing files without --force; --stream merges its streams
    into them, keeping every other entry and the files' comments.
    """
    from ..deadline import run
    from ..errors import UserError
    from ..manifest import write

    target = Path(directory)
    if to_stdout and ctx.get_parameter_source("directory") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--stdout writes no file: leave out --dir")
    before = None
    if not to_stdout:  # refused before connecting anywhere
        present = write.existing(target)
        if present and streams:
            before = write.check_mergeable(target)
        elif present and not force:
            raise UserError(f"{' and '.join(str(p) for p in present)} {'exists' if len(present) == 1 else 'exist'}: "
                            "pass --force to overwrite, --stream NAME to merge streams into them, or --stdout to print")
        write.check_schema_copy(target)
    exported, source = run(_export(nats, streams, include_defaults), timeout)
    if to_stdout:
        buckets = {name: items for name, items in _buckets(exported).items() if items}
        click.echo(write.render({"streams": exported.streams, "consumers": exported.consumers, **buckets},
                                write.header(source, schema=False)), nl=False)
        return
    head = write.header(source, schema=True)
    if before is not None:
        written = write.merge(target, before, exported.streams, exported.consumers, head)
    else:
        written = write.write_new(target, exported.streams, exported.consumers, head, _buckets(exported))
    what = f"{_counted(len(exported.streams), 'stream')} and {_counted(len(exported.consumers), 'consumer')}"
    if exported.key_value or exported.object_stores:
        what += (f", {_counted(len(exported.key_value), 'KV bucket')} and "
                 f"{_counted(len(exported.object_stores), 'object store')}")
    files = ", ".join(str(path) for path in written.files) or "nothing changed"
    click.echo(f"{'merged' if written.merged else 'wrote'} {what} ({files}; schema: {target / write.SCHEMA_FILE})")
    if exported.left_out:
        click.echo(f"left out {_counted(len(exported.left_out), 'consumer')} no manifest declares: "
                   + ", ".join(f"{name} ({why})" for name, why in exported.left_out.items()))
