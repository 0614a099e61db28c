"""Publishing events: random valid ones (the seed's publisher) or lines of a file, many acks in flight."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from .events import MODES, amount_text

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

ACK_TIMEOUT_S = 10.0
PROGRESS_STEP = 250


@dataclass
class Summary:
    published: int = 0
    duplicates: int = 0  # dropped by the stream's duplicate window (same Nats-Msg-Id)
    failed: int = 0
    first_error: str | None = None

    def done(self, future: asyncio.Future) -> None:
        if future.cancelled():
            self.failed += 1
            self.first_error = self.first_error or "no acknowledgement (timed out)"
        elif future.exception() is not None:
            self.failed += 1
            self.first_error = self.first_error or _describe(future.exception())
        elif future.result().duplicate:
            self.duplicates += 1
        else:
            self.published += 1


def _describe(exc: BaseException) -> str:
    from nats.js.errors import NoStreamResponseError

    if isinstance(exc, NoStreamResponseError):
        return "no stream captures the subject (no responders)"
    return f"{type(exc).__name__}: {exc}"


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


async def publish_events(nc: NatsClient, subject: str, events: Iterable[tuple[str, bytes]], *,
                         in_flight: int = 1000, rate: float | None = None,
                         on_progress: Callable[[int], None] | None = None) -> Summary:
    """Publish with up to ``in_flight`` unacknowledged messages, optionally paced at ``rate`` per second."""
    js = nc.jetstream(publish_async_max_pending=in_flight)
    summary = Summary()
    futures: list[asyncio.Future] = []
    started = time.monotonic()
    for sent, (msg_id, payload) in enumerate(events, 1):
        if rate:
            ahead = started + sent / rate - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
        future = await js.publish_async(subject, payload, headers={"Nats-Msg-Id": msg_id})
        future.add_done_callback(summary.done)
        futures.append(future)
        if on_progress and sent % PROGRESS_STEP == 0:
            on_progress(PROGRESS_STEP)  # per message, redrawing the bar would cost more than publishing
    if on_progress and len(futures) % PROGRESS_STEP:
        on_progress(len(futures) % PROGRESS_STEP)
    if futures:
        _, pending = await asyncio.wait(futures, timeout=ACK_TIMEOUT_S)
        for future in pending:
            future.cancel()
        await asyncio.sleep(0)  # let the cancelled futures' callbacks count them
    return summary
