"""`jsctl rejected`: the worker's dead letters (rejected_messages): list them, replay them after a fix
(see docs/worker.md, "Dead letters")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import click

from ..db.settings import DatabaseSettings
from ..deadline import Deadline, run
from ..jetstream.settings import NatsSettings
from .options import (
    Duration,
    add_options,
    environment_options,
    list_output_option,
    nats_options,
    required_database_options,
    timeout_option,
)


class _Since(click.ParamType):
    """A moment: a duration ago (``2h``, ``7d``) or an ISO 8601 time (UTC unless it says otherwise)."""

    name = "DURATION|TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            seconds = Duration().convert(text, param, ctx)
            return datetime.now(timezone.utc) - timedelta(seconds=seconds)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_SELECTION_OPTIONS = [
    click.option("--since", type=_Since(), default=None,
                 help="Only those received since: a duration ago (2h, 7d) or an ISO 8601 time (UTC by default)."),
    click.option("--reason", "reasons", multiple=True, metavar="REASON",
                 help="Only those rejected for REASON (repeatable; see docs/worker.md for the reasons)."),
]


def _selection_options(func: Callable) -> Callable:
    return add_options(_SELECTION_OPTIONS, func)


@click.group()
def rejected() -> None:
    """The worker's dead letters (rejected_messages): list them, replay them after a fix."""


@rejected.command(name="list")
@_selection_options
@click.option("--limit", type=click.IntRange(0), default=100, show_default=True,
              help="Show the latest N (0: all).")
@click.option("--pending", is_flag=True, help="Only those not replayed yet.")
@list_output_option
@timeout_option
@environment_options
@required_database_options
def list_command(since: datetime | None, reasons: tuple[str, ...], limit: int, pending: bool, output: str,
                 timeout: Deadline | None, database: DatabaseSettings) -> None:
    """Show dead letters, oldest first: id, when, the message (stream and sequence), reason, size, whether
    replayed, detail. `-o json` adds the payload (base64), its sha256, the message ids."""
    from ..worker import deadletters as core
    from ..worker.store import session

    selection = core.Selection(since=since, reasons=reasons, limit=limit, pending=pending)

    async def work() -> list[core.DeadLetter]:
        async with session(database) as conn:
            return await core.listed(conn, selection)

    letters = run(work(), timeout)
    click.echo((core.render_json if output == "json" else core.render_text)(letters), nl=False)


@rejected.command()
@click.argument("ids", nargs=-1, type=click.IntRange(1), metavar="[ID]...")
@_selection_options
@click.option("--all", "everything", is_flag=True, help="Every dead letter not replayed yet.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most N, oldest first.")
@click.option("--dry-run", is_flag=True, help="Show what would be replayed; send nothing.")
@timeout_option
@environment_options
@nats_options
@required_database_options
def replay(ids: tuple[int, ...], since: datetime | None, reasons: tuple[str, ...], everything: bool,
           limit: int | None, dry_run: bool, timeout: Deadline | None, nats: NatsSettings,
           database: DatabaseSettings) -> None:
    """Re-publish dead letters to their original subject, once their cause is fixed; each is marked
    replayed and never sent again.

    The replay keeps the id the worker knows the event by, so an event it recorded before counts once.
    A dead letter of which only the first 64 KiB were kept cannot be replayed: naming one refuses the
    replay before anything is sent.
    """
    from ..errors import JsctlError
    from ..jetstream.connect import connect_nats
    from ..worker import deadletters as core
    from ..worker.store import session

    selection = core.Selection(ids=ids, since=since, reasons=reasons, limit=limit, everything=everything)

    async def work() -> core.Replay:
        nc = None if dry_run else await connect_nats(nats, name="jsctl-replay")
        try:
            async with session(database) as conn:
                return await core.replay(conn, nc, selection)
        finally:
            if nc is not None:
                await nc.close()

    result = run(work(), timeout)
    click.echo(core.render_replay(result, dry_run), nl=False)
    if result.failure:
        raise JsctlError(f"replay stopped at {result.failure}; the dead letters after it were not sent")
