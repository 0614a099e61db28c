"""The JetStream exchanges on the worker's hot path: pull, publish with acks, and answer messages.

nats-py's ``PullSubscription.fetch`` waits on every message with its own ``wait_for`` and, under
load, its no-wait probe races the server's asynchronous processing of our acks (the consumer still
looks full) and comes back empty; ``publish_async`` builds a future and parses a PubAck object per
message; ``publish`` validates, encodes and queues one message per call. For batches of 100 these
costs add up to more than the database round trip, so the worker pulls through one inbox and hands
each batch of publishes (verdicts, input acks) to the connection as one piece of protocol (see
docs/worker.md, "Performance").
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NamedTuple

from nats.errors import BadHeaderError

from ..jetstream.settings import DEFAULT_API_PREFIX

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg

STATUS = "Status"
REQUEST_ENDED = {"404", "408", "409"}  # no messages / request expired / request or consumer limit reached
NO_RESPONDERS = "503"


class Delivery(NamedTuple):
    """What the worker needs of a JetStream message's metadata (its reply subject)."""

    stream: str
    sequence: int  # in the stream
    time: datetime  # when the stream stored it, UTC
    pending: int  # messages left for the consumer after this one


def delivery(msg: Msg) -> Delivery:
    """Read from the reply subject: ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer
    seq>.<ns>.<pending>``, or from 2.10 on the same after ``<domain>.<account hash>`` with a trailing token.

    nats-py's ``msg.metadata`` builds three frozen dataclasses per message for this: 7% of the worker's time.
    """
    tokens = msg.reply.split(".")
    if tokens[:2] == ["$JS", "ACK"] and len(tokens) in (9, 11, 12):
        offset = 0 if len(tokens) == 9 else 2
        stream, sequence, ns, pending = (tokens[offset + i] for i in (2, 5, 7, 8))
        return Delivery(stream, int(sequence), datetime.fromtimestamp(int(ns) / 1e9, timezone.utc), int(pending))
    meta = msg.metadata  # any other layout: nats-py's reading (or its NotJSMessageError)
    return Delivery(meta.stream, meta.sequence.stream, meta.timestamp, meta.num_pending)


class Puller:
    """Pull requests on a durable consumer with at most one request open at a time.

    A request for ``batch`` messages lingers on the server (``expires``) so messages arrive as soon as
    the consumer may deliver them; ``fetch`` returns a full batch at once, or what arrived when the
    stream pauses for ``linger`` seconds. Messages of a request that outlives a fetch are kept for the next.
    """

    def __init__(self, nc: NatsClient, stream: str, consumer: str, *, linger: float = 0.003,
                 prefix: str = DEFAULT_API_PREFIX):
        self.nc, self.linger = nc, linger
        self.next_subject = f"{prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.buffer: deque[Msg] = deque()
        self.arrived = asyncio.Event()
        self.open_until = 0.0  # monotonic deadline of the open request; 0 when none is open
        self.still_expected = 0

    async def start(self) -> None:
        self.inbox = self.nc.new_inbox()
        await self.nc.subscribe(self.inbox, cb=self._on_message)

    async def _on_message(self, msg: Msg) -> None:
        if msg.headers and STATUS in msg.headers and not msg.data:
            if msg.headers[STATUS] in REQUEST_ENDED:
                self.open_until = 0.0
        else:
            self.buffer.append(msg)
            self.still_expected -= 1
            if self.still_expected <= 0:
                self.open_until = 0.0
        self.arrived.set()

    def _request_open(self) -> bool:
        return self.open_until > time.monotonic()

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to ``batch`` messages; an empty list when none came within ``timeout``."""
        if len(self.buffer) < batch and not self._request_open():
            wanted = batch - len(self.buffer)
            self.still_expected = wanted
            self.open_until = time.monotonic() + timeout
            request = {"batch": wanted, "expires": int(timeout * 1e9)}
            await self.nc.publish(self.next_subject, json.dumps(request).encode(), reply=self.inbox)
        deadline = time.monotonic() + timeout
        while len(self.buffer) < batch and self._request_open():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), self.linger if self.buffer else remaining)
            except asyncio.TimeoutError:
                if self.buffer:
                    break  # the stream paused: take what is here
        return [self.buffer.popleft() for _ in range(min(batch, len(self.buffer)))]


Outgoing = tuple[str, str, bytes, "dict[str, str] | None"]  # subject, reply ("" for none), payload, headers
_CRLF = b"\r\n"
_HEADER_LINE = b"NATS/1.0\r\n"
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a token, as nats-py requires


def _header_block(headers: dict[str, str]) -> bytes:
    """Headers as nats-py's ``publish`` writes them: names and values stripped, empty names skipped,
    CR and LF in values turned into spaces (a value must not end its line), other names refused."""
    lines = []
    for name, value in headers.items():
        name, value = name.strip(), value.strip()
        if not name:
            continue
        if not _HEADER_NAME.fullmatch(name):
            raise BadHeaderError(name)
        if "\r" in value or "\n" in value:  # rare: str.translate would cost more than the rest together
            value = value.replace("\r", " ").replace("\n", " ")
        lines.append(f"{name}: {value}\r\n")
    return _HEADER_LINE + "".join(lines).encode() + _CRLF


def encode(subject: str, reply: str, payload: bytes, headers: dict[str, str] | None) -> bytes:
    """One message in the NATS client protocol: ``PUB`` or, with headers, ``HPUB``."""
    target = f"{subject} {reply}" if reply else subject
    if not headers:
        return b"PUB %s %d\r\n%s\r\n" % (target.encode(), len(payload), payload)
    block = _header_block(headers)
    return b"HPUB %s %d %d\r\n%s%s\r\n" % (target.encode(), len(block), len(block) + len(payload), block, payload)


async def publish_all(nc: NatsClient, messages: Sequence[Outgoing]) -> None:
    """Publish ``messages`` in order, as one write when the connection is up.

    A batch's acks or verdicts handed to nats-py one ``publish`` at a time cost more than the database
    call of the batch. Subjects here are the server's own reply subjects and the verdict subject
    checked at start-up. While nats-py reconnects, or without its ``_send_command`` (private: a
    later nats-py may rename it), each message goes through ``publish``, with its buffering limits
    and errors.
    """
    send, flush = getattr(nc, "_send_command", None), getattr(nc, "_flush_pending", None)
    if (send is None or flush is None or not nc.is_connected or nc.is_draining_pubs
            or any(len(m[2]) > nc.max_payload for m in messages)):
        for subject, reply, payload, headers in messages:
            await nc.publish(subject, payload, reply=reply, headers=headers)
        return
    await send(b"".join(encode(*message) for message in messages))
    nc.stats["out_msgs"] += len(messages)
    nc.stats["out_bytes"] += sum(len(m[2]) for m in messages)
    await flush()


class PublishFailed(Exception):
    pass


class Round:
    """One batch published by an ``AckedPublisher``: its acks are counted as they arrive."""

    __slots__ = ("all_acked", "answered", "duplicates", "errors", "size", "token", "waiting")

    def __init__(self, token: str, size: int):
        self.token, self.size, self.waiting, self.duplicates = token, size, size, 0
        self.errors: list[str] = []
        self.answered: set[str] = set()  # indexes of the messages acked (or refused)
        self.all_acked = asyncio.Event()


class AckedPublisher:
    """Publishes batches of JetStream messages and counts their acks; replies share one inbox.

    Each batch is a round (``<inbox>.<round>.<index>``); rounds may overlap, and late acks of an
    abandoned round are ignored.
    """

    def __init__(self, nc: NatsClient):
        self.nc = nc
        self.last_round = 0
        self.rounds: dict[str, Round] = {}

    async def start(self) -> None:
        self.prefix = self.nc.new_inbox()
        await self.nc.subscribe(f"{self.prefix}.*.*", cb=self._on_reply)

    async def _on_reply(self, msg: Msg) -> None:
        token, _, index = msg.subject[len(self.prefix) + 1:].partition(".")
        current = self.rounds.get(token)
        # A message that two streams capture (say one in the hub's domain, one in a leaf's) is acked by each:
        # the first answer counts.
        if current is None or index in current.answered:
            return
        current.answered.add(index)
        if msg.headers and msg.headers.get(STATUS) == NO_RESPONDERS:
            current.errors.append("no stream captures the subject (no responders)")
        elif b'"error"' in msg.data:
            current.errors.append(json.loads(msg.data)["error"].get("description", "error"))
        elif b'"duplicate"' in msg.data and json.loads(msg.data).get("duplicate"):  # stored before (same id)
            current.duplicates += 1
        current.waiting -= 1
        if current.waiting == 0:
            current.all_acked.set()

    async def send(self, subject: str, messages: Sequence[tuple[bytes, dict[str, str]]]) -> Round:
        """Publish one round; ``confirmed`` then waits for its acks."""
        self.last_round += 1
        token = str(self.last_round)
        self.rounds[token] = current = Round(token, len(messages))
        reply = f"{self.prefix}.{token}."
        try:
            await publish_all(self.nc, [(subject, f"{reply}{index}", payload, headers)
                                        for index, (payload, headers) in enumerate(messages)])
        except BaseException:
            del self.rounds[token]
            raise
        if not messages:
            current.all_acked.set()
        return current

    async def confirmed(self, current: Round, timeout: float) -> Round:
        """``current`` once every ack came, or after ``timeout`` with ``waiting`` acks missing."""
        try:
            await asyncio.wait_for(current.all_acked.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self.rounds.pop(current.token, None)
        return current

    async def publish(self, subject: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout: float) -> None:
        """Raise PublishFailed unless every message was stored (or dropped as a duplicate) within ``timeout``."""
        if not messages:
            return
        current = await self.confirmed(await self.send(subject, messages), timeout)
        if current.waiting:
            raise PublishFailed(f"{current.waiting} of {current.size} acks missing after {timeout:.0f}s")
        if current.errors:
            raise PublishFailed(current.errors[0])
