"""`jsctl check`: health of the declared streams and consumers, for Nagios, cron or a human.

Exit codes are Nagios's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), unlike the other commands:
a failure to check (server unreachable, bad input, a usage error, --timeout) is UNKNOWN, exit 3.
"""

from __future__ import annotations

from typing import Any

import click

from ..deadline import Deadline, run
from ..errors import JsctlError
from ..health.evaluate import UNKNOWN
from ..jetstream.settings import NatsSettings
from ..manifest.model import CONSUMER, STREAM, DeclaredResource, Desired
from .options import environment_options, manifest_option, nats_options, timeout_option


class NagiosCommand(click.Command):
    """A command for monitoring systems: a run that could not check, usage errors included, is UNKNOWN."""

    error_exit_code = UNKNOWN


def _threshold_options(func):
    from ..health.evaluate import THRESHOLD_HELP, THRESHOLD_KEYS

    for key in reversed(THRESHOLD_KEYS):
        for level in ("critical", "warn"):
            func = click.option(f"--{key}-{level}", metavar="N|P%", default=None,
                                help=f"{level.capitalize()} at: {THRESHOLD_HELP[key]} "
                                     f"[overrides metadata io.nats.monitor.{key}-{level}].")(func)
    return func


def _declared(ctx: click.Context, files: tuple[str, ...], variables: dict[str, Any], streams: tuple[str, ...],
              consumers: tuple[str, ...]) -> Desired:
    """The manifests' streams and consumers (-f, or the default files when present), narrowed to the
    ones named by --stream/--consumer; a name no manifest declares is checked for existence and health only."""
    from pathlib import Path

    from ..manifest.load import DEFAULT_FILES
    from ..reconcile.plan import load_manifests

    have_manifests = bool(files) or any(Path(f).exists() for f in DEFAULT_FILES)
    declared = load_manifests(files, variables) if have_manifests else Desired()
    if not streams and not consumers:
        return declared
    chosen = Desired(files=declared.files)
    for name in streams:
        chosen.streams[name] = declared.streams.get(name) or DeclaredResource(STREAM, name, {}, origin="--stream")
    for item in consumers:
        stream, sep, name = item.partition("/")
        if not sep or not stream or not name:
            raise click.BadParameter(f"{item!r}: expected STREAM/CONSUMER", ctx, param_hint="--consumer")
        chosen.consumers[(stream, name)] = (declared.consumers.get((stream, name))
                                            or DeclaredResource(CONSUMER, name, {}, origin="--consumer", stream=stream))
    return chosen


@click.command(cls=NagiosCommand)
@environment_options
@manifest_option
@click.option("--stream", "streams", multiple=True, metavar="NAME", help="A stream to check (repeatable).")
@click.option("--consumer", "consumers", multiple=True, metavar="STREAM/NAME", help="A consumer to check (repeatable).")
@click.option("-o", "--output", type=click.Choice(["text", "json", "nagios"]), default="text", show_default=True)
@_threshold_options
@timeout_option
@nats_options
@click.pass_context
def check(ctx: click.Context, files: tuple[str, ...], variables: dict[str, Any], streams: tuple[str, ...],
          consumers: tuple[str, ...], output: str, timeout: Deadline | None, nats: NatsSettings,
          **thresholds: str | None) -> None:
    """Check that the declared streams, consumers and buckets exist, match their manifests and are healthy.

    Measures: consumer unprocessed messages (lag), ack pending against max_ack_pending
    (saturation, default warn 80%, critical 100%), redelivered messages, and stream usage against
    max_msgs/max_bytes (default warn 80%, critical 95%). Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    """
    from ..health.check import check_health
    from ..health.evaluate import overall
    from ..health.render import RENDERERS

    flags = {name.replace("_", "-"): value for name, value in thresholds.items()}
    try:
        desired = _declared(ctx, files, variables, streams, consumers)
        if not (desired.streams or desired.consumers or desired.key_value or desired.object_stores):
            raise JsctlError("nothing to check: no manifests declare a stream, consumer or bucket, and none was "
                             "named with --stream or --consumer")
        results = run(check_health(nats, desired, flags), timeout)
    except JsctlError as exc:
        click.echo(_unknown(output, str(exc)), nl=False)
        ctx.exit(UNKNOWN)
    click.echo(RENDERERS[output](results), nl=False)
    ctx.exit(overall(results))


def _unknown(output: str, message: str) -> str:
    import json

    from ..terminal import printable_text

    if output == "json":
        return json.dumps({"status": "UNKNOWN", "exit_code": 3, "error": message, "checks": []}) + "\n"
    return printable_text(f"JSCTL UNKNOWN - {message}" if output == "nagios" else f"UNKNOWN: {message}") + "\n"
