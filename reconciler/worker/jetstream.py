"""The two JetStream exchanges on the worker's hot path, each through one inbox subscription.

nats-py's ``PullSubscription.fetch`` waits on every message with its own ``wait_for`` and, under
load, its no-wait probe races the server's asynchronous processing of our acks (the consumer still
looks full) and comes back empty; ``publish_async`` builds a future and parses a PubAck object per
message. For batches of 100 both costs add up to more than the database round trip, so the worker
uses these lean versions (see docs/worker.md, "Performance").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg

STATUS = "Status"
REQUEST_ENDED = {"404", "408", "409"}  # no messages / request expired / request or consumer limit reached
NO_RESPONDERS = "503"


class Puller:
    """Pull requests on a durable consumer with at most one request open at a time.

    A request for ``batch`` messages lingers on the server (``expires``) so messages arrive as soon as
    the consumer may deliver them; ``fetch`` returns a full batch at once, or what arrived when the
    stream pauses for ``linger`` seconds. Messages of a request that outlives a fetch are kept for the next.
    """

    def __init__(self, nc: NatsClient, stream: str, consumer: str, *, linger: float = 0.003):
        self.nc, self.linger = nc, linger
        self.next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
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


class PublishFailed(Exception):
    pass


class _Round:
    __slots__ = ("all_acked", "errors", "waiting")

    def __init__(self, count: int):
        self.waiting, self.errors, self.all_acked = count, [], asyncio.Event()


class AckedPublisher:
    """Publishes batches of JetStream messages and waits for all their acks; replies share one inbox.

    Each batch is a round (``<inbox>.<round>.<index>``); rounds may overlap, and late acks of an
    abandoned round are ignored.
    """

    def __init__(self, nc: NatsClient):
        self.nc = nc
        self.last_round = 0
        self.rounds: dict[str, _Round] = {}

    async def start(self) -> None:
        self.prefix = self.nc.new_inbox()
        await self.nc.subscribe(f"{self.prefix}.*.*", cb=self._on_reply)

    async def _on_reply(self, msg: Msg) -> None:
        current = self.rounds.get(msg.subject[len(self.prefix) + 1:].split(".", 1)[0])
        if current is None:
            return
        if msg.headers and msg.headers.get(STATUS) == NO_RESPONDERS:
            current.errors.append("no stream for the subject (no responders)")
        elif b'"error"' in msg.data:
            current.errors.append(json.loads(msg.data)["error"].get("description", "error"))
        current.waiting -= 1
        if current.waiting == 0:
            current.all_acked.set()

    async def publish(self, subject: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout: float) -> None:
        """Raise PublishFailed unless every message was stored (or dropped as a duplicate) within ``timeout``."""
        if not messages:
            return
        self.last_round += 1
        token = str(self.last_round)
        self.rounds[token] = current = _Round(len(messages))
        reply = f"{self.prefix}.{token}."
        try:
            for index, (payload, headers) in enumerate(messages):
                await self.nc.publish(subject, payload, reply=f"{reply}{index}", headers=headers)
            try:
                await asyncio.wait_for(current.all_acked.wait(), timeout)
            except asyncio.TimeoutError:
                raise PublishFailed(f"{current.waiting} of {len(messages)} acks missing after {timeout:.0f}s") from None
        finally:
            del self.rounds[token]
        if current.errors:
            raise PublishFailed(current.errors[0])
