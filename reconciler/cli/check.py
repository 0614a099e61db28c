"""`jsctl check`: health of the declared streams and consumers, for Nagios, cron or a human.

Exit codes are Nagios's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), unlike the other commands:
a failure to check (server unreachable, bad input) is UNKNOWN, exit 3.
"""

from __future__ import annotations

import asyncio

import click

from ..connection import NatsSettings
from ..errors import JsctlError
from ..manifest.model import CONSUMER, STREAM, DeclaredResource, Desired
from .options import nats_options

ERR_STREAM_NOT_FOUND, ERR_CONSUMER_NOT_FOUND = 10059, 10014


def _threshold_options(func):
    from ..health import THRESHOLD_HELP, THRESHOLD_KEYS

    for key in reversed(THRESHOLD_KEYS):
        for level in ("critical", "warn"):
            func = click.option(f"--{key}-{level}", metavar="N|P%", default=None,
                                help=f"{level.capitalize()} at: {THRESHOLD_HELP[key]} "
                                     f"[overrides metadata io.nats.monitor.{key}-{level}].")(func)
    return func


def _selected(streams: tuple[str, ...], consumers: tuple[str, ...]) -> Desired:
    desired = Desired()
    for name in streams:
        desired.streams[name] = DeclaredResource(STREAM, name, {}, origin="--stream")
    for item in consumers:
        stream, sep, name = item.partition("/")
        if not sep or not stream or not name:
            raise click.BadParameter(f"{item!r}: expected STREAM/CONSUMER", param_hint="--consumer")
        desired.consumers[(stream, name)] = DeclaredResource(CONSUMER, name, {}, origin="--consumer", stream=stream)
    return desired


@click.command()
@click.option("--stream", "streams", multiple=True, metavar="NAME", help="A stream to check (repeatable).")
@click.option("--consumer", "consumers", multiple=True, metavar="STREAM/NAME", help="A consumer to check (repeatable).")
@click.option("-o", "--output", type=click.Choice(["text", "json", "nagios"]), default="text", show_default=True)
@_threshold_options
@nats_options
@click.pass_context
def check(ctx: click.Context, streams: tuple[str, ...], consumers: tuple[str, ...], output: str,
          nats: NatsSettings, **thresholds: str | None) -> None:
    """Check that the declared streams and consumers exist and are healthy.

    Measures: consumer unprocessed messages (lag), ack pending against max_ack_pending
    (saturation, default warn 80%, critical 100%), redelivered messages, and stream usage against
    max_msgs/max_bytes (default warn 80%, critical 95%). Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    """
    from .. import health

    flags = {name.replace("_", "-"): value for name, value in thresholds.items()}
    try:
        desired = _selected(streams, consumers)
        if not desired.streams and not desired.consumers:
            raise JsctlError("nothing to check: name streams with --stream and consumers with --consumer")
        results = asyncio.run(_check(nats, desired, flags))
    except JsctlError as exc:
        click.echo(_unknown(output, str(exc)), nl=False)
        ctx.exit(health.UNKNOWN)
    click.echo(health.RENDERERS[output](results), nl=False)
    ctx.exit(health.overall(results))


def _unknown(output: str, message: str) -> str:
    import json

    if output == "json":
        return json.dumps({"status": "UNKNOWN", "exit_code": 3, "error": message, "checks": []}) + "\n"
    return f"JSCTL UNKNOWN - {message}\n" if output == "nagios" else f"UNKNOWN: {message}\n"


async def _check(settings: NatsSettings, desired: Desired, flags: dict[str, str | None]):
    from ..connection import connect_nats
    from ..health import CONSUMER_MEASURES, STREAM_MEASURES, evaluate
    from ..jsapi import JetStreamApi

    nc = await connect_nats(settings, name="jsctl check")
    try:
        api = JetStreamApi(nc)
        results = []
        for name, declared in sorted(desired.streams.items()):
            info = await _info(api, f"STREAM.INFO.{name}")
            results.append(evaluate(declared.address, info, STREAM_MEASURES, flags))
        for (stream, name), declared in sorted(desired.consumers.items()):
            info = await _info(api, f"CONSUMER.INFO.{stream}.{name}")
            results.append(evaluate(declared.address, info, CONSUMER_MEASURES, flags))
        return results
    finally:
        await nc.close()


async def _info(api, subject: str):
    from ..jsapi import ApiError

    try:
        return await api.request(subject)
    except ApiError as exc:
        if exc.err_code in (ERR_STREAM_NOT_FOUND, ERR_CONSUMER_NOT_FOUND):
            return None
        raise
