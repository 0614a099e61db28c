"""`publish_events` in rounds: the window is kept, and every message is counted once as published, a
duplicate, refused by the stream, or never acknowledged (real nats-server)."""

from __future__ import annotations

import asyncio

import pytest
from support import processed

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.worker import publish
from reconciler.worker.publish import publish_events, random_events, round_size


@pytest.mark.parametrize(("in_flight", "rate", "size", "rounds"), [
    (1000, None, 100, 10), (150, None, 75, 2), (101, None, 50, 2), (99, None, 99, 1), (1, None, 1, 1),
    (1000, 50.0, 1, 1000), (1000, 5000.0, 50, 20), (10, 1e6, 10, 1),
])
def test_rounds_never_hold_more_than_the_window(in_flight, rate, size, rounds):
    assert round_size(in_flight, rate) == size
    assert in_flight // size == rounds and rounds * size <= in_flight


async def _publish(url: str, subject: str, events, **options):
    nc = await connect_nats(NatsSettings(url=url))
    try:
        return await publish_events(nc, subject, events, **options)
    finally:
        await nc.close()


async def _stream(url: str, config: dict) -> None:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        await JetStreamApi(nc).request(f"STREAM.CREATE.{config['name']}", config)
    finally:
        await nc.close()


def test_small_window_and_progress(js_account):
    asyncio.run(_stream(js_account, {"name": "PUB", "subjects": ["pub.>"], "storage": "memory"}))
    progress: list[int] = []
    summary = asyncio.run(_publish(js_account, "pub.x", random_events(57), in_flight=7, on_progress=progress.append))
    assert (summary.published, summary.duplicates, summary.failed) == (57, 0, 0)
    assert sum(progress) == 57 and max(progress) <= 7


def test_refused_and_duplicate_messages_are_counted_once(js_account):
    asyncio.run(_stream(js_account, {"name": "FULL", "subjects": ["full.>"], "storage": "memory",
                                     "max_msgs": 5, "discard": "new"}))
    # ids 0-4 stored, 5-7 refused (the stream is full), then 0-3 again: duplicates, checked before the limit
    events = [(f"id-{i % 8}", b"{}") for i in range(12)]
    summary = asyncio.run(_publish(js_account, "full.x", events, in_flight=4))
    assert (summary.published, summary.duplicates, summary.failed) == (5, 4, 3)
    assert summary.first_error and "maximum messages" in summary.first_error


def test_unacknowledged_messages_fail_after_the_timeout(js_account, monkeypatch):
    """A plain subscriber on the subject (no stream) takes the messages and never answers."""
    monkeypatch.setattr(publish, "ACK_TIMEOUT_S", 0.5)

    async def scenario():
        listener = await connect_nats(NatsSettings(url=js_account))
        try:
            await listener.subscribe("silent.x", cb=_ignore)
            await processed(listener)
            return await _publish(js_account, "silent.x", random_events(30), in_flight=10)
        finally:
            await listener.close()

    summary = asyncio.run(scenario())
    assert (summary.published, summary.duplicates, summary.failed) == (0, 0, 30)
    assert summary.first_error == "no acknowledgement (timed out)"


async def _ignore(msg) -> None:
    return None
