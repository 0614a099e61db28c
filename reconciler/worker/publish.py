"""Publishing events: random valid ones (the seed's publisher) or lines of a file, many acks in flight."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from .events import MODES, amount_text
from .wire import AckedPublisher, Round

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

ACK_TIMEOUT_S = 10.0  # per round, from its publish
ROUND = 100  # messages published and confirmed together
ROUND_DUE_S = 0.01  # with --rate: a round holds the messages due in this time


@dataclass
class Summary:
    published: int = 0
    duplicates: int = 0  # dropped by the stream's duplicate window (same Nats-Msg-Id)
    failed: int = 0
    first_error: str | None = None

    def add(self, done: Round) -> None:
        """Count a confirmed round: each message stored, a duplicate, refused, or never acknowledged."""
        failed = len(done.errors) + done.waiting
        self.published += done.size - done.duplicates - failed
        self.duplicates += done.duplicates
        self.failed += failed
        if failed and self.first_error is None:
            self.first_error = done.errors[0] if done.errors else "no acknowledgement (timed out)"


def random_events(count: int, rng: random.Random | None = None, users: int = 1000) -> Iterator[tuple[str, bytes]]:
    """``(Nats-Msg-Id, payload)`` of valid events in the seed's wrapped form; about 1 in 20 over the default max."""
    rng = rng or random.Random()
    for _ in range(count):
        transaction_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        amount = Decimal(rng.randint(1, 10_500 * 10**3)).scaleb(-3)
        event = {"userId": str(100_000_000 + rng.randrange(users)), "transactionMode": rng.choice(MODES),
                 "amount": "AMOUNT", "transactionId": transaction_id}
        payload = json.dumps({"userTransaction": event}).replace('"AMOUNT"', amount_text(amount))
        yield transaction_id, payload.encode()


def file_events(lines: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """Lines sent as they are; the Nats-Msg-Id is the line's transactionId, or a digest of the line."""
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        yield _line_id(line), line


def _line_id(line: bytes) -> str:
    try:
        document = json.loads(line)
        body = document.get("userTransaction", document) if isinstance(document, dict) else None
        transaction_id = body.get("transactionId") if isinstance(body, dict) else None
    except ValueError:
        transaction_id = None
    if isinstance(transaction_id, str) and transaction_id.strip():
        return transaction_id
    return hashlib.sha256(line).hexdigest()


def round_size(in_flight: int, rate: float | None) -> int:
    """Messages per round: ``in_flight`` split into equal rounds of at most ROUND, so the rounds in
    flight together hold at most ``in_flight``; with ``rate``, what is due in ROUND_DUE_S."""
    size = in_flight // math.ceil(in_flight / ROUND)
    return size if rate is None else max(1, min(size, int(rate * ROUND_DUE_S)))


async def publish_events(nc: NatsClient, subject: str, events: Iterable[tuple[str, bytes]], *,
                         in_flight: int = 1000, rate: float | None = None,
                         on_progress: Callable[[int], None] | None = None) -> Summary:
    """Publish with up to ``in_flight`` unacknowledged messages, optionally paced at ``rate`` per second.

    Messages go out in rounds, each one protocol write whose acks are counted together (a future per
    message, as nats-py's ``publish_async`` makes, costs more than the publish itself).
    """
    publisher = AckedPublisher(nc)
    await publisher.start()
    size = round_size(in_flight, rate)
    window = asyncio.Semaphore(max(1, in_flight // size))  # rounds in flight
    summary = Summary()
    confirming: set[asyncio.Task] = set()

    async def confirm(sent: Round) -> None:
        try:
            summary.add(await publisher.confirmed(sent, ACK_TIMEOUT_S))
        finally:
            window.release()

    started, sent = time.monotonic(), 0
    iterator = iter(events)
    while chunk := list(itertools.islice(iterator, size)):
        if rate:
            ahead = started + sent / rate - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
        messages = [(payload, {"Nats-Msg-Id": msg_id}) for msg_id, payload in chunk]
        await window.acquire()
        try:
            sent_round = await publisher.send(subject, messages)
        except BaseException:
            window.release()
            raise
        task = asyncio.create_task(confirm(sent_round))
        confirming.add(task)
        task.add_done_callback(confirming.discard)
        sent += len(chunk)
        if on_progress:
            on_progress(len(chunk))
    await asyncio.gather(*confirming)
    return summary
