"""Dead letters (``rejected_messages``): list them, and replay them once their cause is fixed.

A replay re-publishes the stored bytes to the original subject. It cannot reuse the original
``Nats-Msg-Id``: the stream drops a message whose id it has seen within its ``duplicate_window`` (a day
for USER_TXN), terminated or not. So a replay carries

- ``Nats-Msg-Id: jsctl-replay-<stream>-<sequence>`` (the dead letter's): the same replay sent again
  (after a crash before it was marked, or by two replays at once) is dropped by the stream within its
  window;
- ``Jsctl-Original-Msg-Id``: the id the original stood for (its Nats-Msg-Id, else the transaction id,
  else ``<stream>-<sequence>``), which the worker takes as the transaction id of an event that has no
  ``transactionId``. The replayed event so has the original's transaction id, and once recorded it is
  a duplicate for the worker at any later time: nothing counts twice.

Replayed rows are kept (the record of what happened) and marked with ``replayed_at`` and the replay's
stream sequence; later replays skip them. A row that keeps only the first 64 KiB of its payload, or
whose bytes no longer match their sha256, cannot be replayed whole: a replay that includes one is
refused before anything is sent.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from ..errors import UserError
from .events import ORIGINAL_MSG_ID, derived_transaction_id
from .listing import document, table, utc
from .report import describe

if TYPE_CHECKING:
    import asyncpg
    from nats.aio.client import Client as NatsClient

REPLAY_PUBLISH_TIMEOUT = 5.0  # seconds for each replayed message's ack


class DeadLetter(NamedTuple):
    """A row of rejected_messages."""

    id: int
    received_at: datetime
    stream: str
    stream_sequence: int
    subject: str
    reason: str
    detail: str | None
    transaction_id: str | None
    msg_id: str | None
    raw: bytes
    raw_size: int
    raw_digest: str
    replayed_at: datetime | None
    replay_sequence: int | None

    @property
    def original_id(self) -> str:
        """The id the worker knew the original message by (see the module's docstring)."""
        return self.msg_id or self.transaction_id or derived_transaction_id(self.stream, self.stream_sequence)

    @property
    def replay_msg_id(self) -> str:
        return f"jsctl-replay-{self.stream}-{self.stream_sequence}"

    @property
    def truncated(self) -> bool:
        return len(self.raw) < self.raw_size

    def why_not_replayable(self) -> str | None:
        if self.truncated:
            return (f"{self.name} keeps {len(self.raw):,} of its {self.raw_size:,} bytes (rejected_messages keeps "
                    f"the first 64 KiB of a payload): it cannot be replayed whole")
        if hashlib.sha256(self.raw).hexdigest() != self.raw_digest:
            return f"{self.name}: its stored bytes do not match their sha256 (changed since it was rejected)"
        return None

    @property
    def name(self) -> str:
        return f"dead letter {self.id} ({self.stream} #{self.stream_sequence}, {self.reason})"


_SELECT = f"SELECT {', '.join(DeadLetter._fields)} FROM rejected_messages"


@dataclass(frozen=True)
class Selection:
    """Which dead letters a command is about; every given criterion must hold."""

    ids: tuple[int, ...] = ()
    since: datetime | None = None
    reasons: tuple[str, ...] = ()
    limit: int | None = None
    pending: bool = False  # only those not replayed yet
    everything: bool = False  # a replay of every pending one was asked for (--all)

    @property
    def chosen(self) -> bool:
        return bool(self.ids or self.since or self.reasons or self.everything)

    def where(self) -> tuple[str, list]:
        conditions, params = [], []
        for condition, value in (("id = ANY({}::bigint[])", list(self.ids)), ("received_at >= {}", self.since),
                                 ("reason = ANY({}::text[])", list(self.reasons))):
            if value:
                params.append(value)
                conditions.append(condition.format(f"${len(params)}"))
        if self.pending:
            conditions.append("replayed_at IS NULL")
        return (" WHERE " + " AND ".join(conditions)) if conditions else "", params

    def limited(self) -> str:
        return f" LIMIT {int(self.limit)}" if self.limit else ""


async def listed(conn: asyncpg.Connection, selection: Selection) -> list[DeadLetter]:
    """The latest ``limit`` dead letters of ``selection``, oldest first."""
    where, params = selection.where()
    rows = await conn.fetch(f"{_SELECT}{where} ORDER BY id DESC{selection.limited()}", *params)
    return [DeadLetter(*row) for row in reversed(rows)]


# ------------------------------------------------------------------------------------------------ replay

class Replayed(NamedTuple):
    letter: DeadLetter
    stream: str  # the stream that stored the replay
    sequence: int
    duplicate: bool  # the stream had it already: a replay sent before was not marked


@dataclass
class Replay:
    letters: list[DeadLetter]  # chosen, in id order
    done: list[Replayed]
    failure: str | None = None  # why the replay stopped at letters[len(done)]


async def replay(conn: asyncpg.Connection, nc: NatsClient | None, selection: Selection) -> Replay:
    """Re-publish the chosen dead letters (or, without ``nc``, only choose them: a dry run) and mark the
    replayed ones, in one transaction that locks them, so two replays never send the same row.

    A publish that fails stops the replay; the rows replayed before it are marked all the same.
    """
    import asyncpg

    try:
        async with conn.transaction():
            letters = await _chosen(conn, selection)
            result = Replay(letters, [])
            if nc is None:
                return result
            js = nc.jetstream()
            for letter in letters:
                headers = {"Nats-Msg-Id": letter.replay_msg_id, ORIGINAL_MSG_ID: letter.original_id}
                try:
                    ack = await js.publish(letter.subject, letter.raw, timeout=REPLAY_PUBLISH_TIMEOUT, headers=headers)
                except Exception as exc:  # no stream for the subject, refused by it, no ack in time, NATS gone
                    result.failure = f"{letter.name}: {describe(exc)}"
                    break
                result.done.append(Replayed(letter, ack.stream, ack.seq, bool(ack.duplicate)))
            await conn.execute(
                "UPDATE rejected_messages AS r SET replayed_at = now(), replay_sequence = d.sequence "
                "FROM unnest($1::bigint[], $2::bigint[]) AS d(id, sequence) WHERE r.id = d.id",
                [r.letter.id for r in result.done], [r.sequence for r in result.done])
            return result
    except asyncpg.LockNotAvailableError:
        raise UserError("some of these dead letters are being replayed by another jsctl right now; "
                        "run the replay again once it has ended") from None


async def _chosen(conn: asyncpg.Connection, selection: Selection) -> list[DeadLetter]:
    """The rows to replay, locked; a UserError, before anything is sent, for an id that does not exist or
    was replayed already, and for a row that cannot be replayed whole."""
    if not selection.chosen:
        raise UserError("say which dead letters to replay: their IDs, --reason, --since, or --all")
    pending = dataclasses.replace(selection, pending=not selection.ids)  # named ids are checked one by one below
    where, params = pending.where()
    rows = await conn.fetch(f"{_SELECT}{where} ORDER BY id{pending.limited()} FOR UPDATE NOWAIT", *params)
    letters = [DeadLetter(*row) for row in rows]
    found = {letter.id: letter for letter in letters}
    problems = [f"dead letter {i} not found" for i in selection.ids if i not in found]
    problems += [f"{letter.name} was replayed at {utc(letter.replayed_at)} as {letter.stream} "
                 f"#{letter.replay_sequence}: a dead letter is replayed once" for letter in letters
                 if letter.replayed_at is not None]
    problems += [why for letter in letters if (why := letter.why_not_replayable())]
    if problems:
        raise UserError("nothing replayed:\n" + "\n".join(problems))
    return letters


# ----------------------------------------------------------------------------------------------- output

def render_text(letters: Sequence[DeadLetter]) -> str:
    if not letters:
        return "no dead letters\n"
    rows = [("ID", "RECEIVED", "MESSAGE", "SUBJECT", "REASON", "BYTES", "REPLAYED", "DETAIL")]
    for d in letters:
        size = f"{d.raw_size} (kept {len(d.raw)})" if d.truncated else str(d.raw_size)
        replayed = "-" if d.replayed_at is None else f"#{d.replay_sequence}"
        rows.append((str(d.id), utc(d.received_at), f"{d.stream} #{d.stream_sequence}", d.subject, d.reason, size,
                     replayed, d.detail or ""))
    return table(rows, right=(0, 5))


def render_json(letters: Sequence[DeadLetter]) -> str:
    return document("dead_letters", [
        {"id": d.id, "received_at": utc(d.received_at), "stream": d.stream, "stream_sequence": d.stream_sequence,
         "subject": d.subject, "reason": d.reason, "detail": d.detail, "transaction_id": d.transaction_id,
         "msg_id": d.msg_id, "size": d.raw_size, "sha256": d.raw_digest, "truncated": d.truncated,
         "payload_base64": base64.b64encode(d.raw).decode(), "replayed_at": utc(d.replayed_at),
         "replay_sequence": d.replay_sequence}
        for d in letters])


def render_replay(result: Replay, dry_run: bool) -> str:
    if not result.letters:
        return "no dead letters to replay\n"
    if dry_run:
        lines = [f"would replay {d.name} to {d.subject} as {d.replay_msg_id} (original id {d.original_id})"
                 for d in result.letters]
        return "\n".join([*lines, f"would replay {len(result.letters)} dead letters"]) + "\n"
    lines = [f"replayed {r.letter.name} as {r.stream} #{r.sequence}"
             + (" (the stream had it already: a replay sent before)" if r.duplicate else "")
             for r in result.done]
    lines.append(f"replayed {len(result.done)} of {len(result.letters)} dead letters")
    return "\n".join(lines) + "\n"
