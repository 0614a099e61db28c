"""The worker's own NATS wire shortcuts agree with nats-py: batched publishes (as one protocol write, and
message by message while reconnecting) arrive exactly as ``nc.publish`` sends them, and the delivery
metadata read from a reply subject equals nats-py's ``msg.metadata``."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.msg import Msg
from nats.errors import BadHeaderError

from reconciler.connection import NatsSettings, connect_nats
from reconciler.worker.jetstream import delivery, encode, publish_all

MESSAGES = [
    ("wire.a", "", b"+ACK", None),
    ("wire.b", "reply.1", b'{"x": 1}', {"Nats-Msg-Id": "verdict-t1"}),
    ("wire.c", "", b"", {"Nats-Msg-Id": "  padded  ", "Other": "two\r\nlines"}),
    ("wire.d", "reply.2", bytes(range(256)), None),
    ("wire.e", "", "ünïcode".encode(), {"Nats-Msg-Id": "verdict-ü"}),
]


def received(msg: Msg) -> tuple:
    return msg.subject, msg.reply, msg.data, dict(msg.headers or {})


async def deliveries(url: str, send) -> list[tuple]:
    """What a subscriber on ``wire.>`` receives when ``send(nc)`` publishes MESSAGES."""
    listener, sender = await connect_nats(NatsSettings(url=url)), await connect_nats(NatsSettings(url=url))
    try:
        got: list[Msg] = []
        sub = await listener.subscribe("wire.>", cb=collector(got))
        await listener.flush()
        await send(sender)
        await sender.flush()
        for _ in range(200):  # bounded: 2 s
            if len(got) == len(MESSAGES):
                break
            await asyncio.sleep(0.01)
        await sub.unsubscribe()
        return [received(msg) for msg in got]
    finally:
        await listener.close()
        await sender.close()


def collector(got: list[Msg]):
    async def collect(msg: Msg) -> None:
        got.append(msg)

    return collect


async def one_by_one(nc) -> None:
    for subject, reply, payload, headers in MESSAGES:
        await nc.publish(subject, payload, reply=reply, headers=headers)


def test_batched_publish_arrives_as_nats_py_sends_it(nats_server):
    expected = asyncio.run(deliveries(nats_server.url, one_by_one))
    assert len(expected) == len(MESSAGES)
    assert asyncio.run(deliveries(nats_server.url, lambda nc: publish_all(nc, MESSAGES))) == expected


def test_bad_header_name_is_refused_as_nats_py_does():
    with pytest.raises(BadHeaderError):
        encode("s", "", b"x", {"Bad Name": "v"})


def test_batch_is_one_protocol_write_while_connected():
    wire = b"".join(encode(*message) for message in MESSAGES)
    assert wire.count(b"PUB ") == len(MESSAGES)  # HPUB included
    assert encode("s", "", b"+ACK", None) == b"PUB s 4\r\n+ACK\r\n"
    assert encode("s", "r", b"x", {"Nats-Msg-Id": "m"}) == \
        b"HPUB s r 28 29\r\nNATS/1.0\r\nNats-Msg-Id: m\r\n\r\nx\r\n"


def test_batched_publish_while_reconnecting_goes_through_nats_py(nats_server_factory):
    """While the connection is down, publishes are buffered by nats-py and sent after it reconnects."""
    server = nats_server_factory()

    async def scenario() -> list[tuple]:
        sender = await connect_nats(NatsSettings(url=server.url), max_reconnect_attempts=-1, reconnect_time_wait=0.1)
        try:
            server.stop()
            for _ in range(500):  # bounded: 5 s
                if not sender.is_connected:
                    break
                await asyncio.sleep(0.01)
            assert not sender.is_connected
            await publish_all(sender, MESSAGES)  # buffered by nats-py, not written to a dead socket
            assert sender.pending_data_size > 0
            server.start()
            listener = await connect_nats(NatsSettings(url=server.url))
            got: list[Msg] = []
            await listener.subscribe("wire.>", cb=collector(got))
            await listener.flush()
            for _ in range(1000):  # bounded: 10 s
                if sender.is_connected:
                    break
                await asyncio.sleep(0.01)
            await sender.flush()
            for _ in range(200):
                if len(got) == len(MESSAGES):
                    break
                await asyncio.sleep(0.01)
            await listener.close()
            return [received(msg) for msg in got]
        finally:
            await sender.close()

    # A subscriber that joins after the reconnect sees what was buffered: the same messages, in order.
    expected = [(subject, reply, payload, dict(headers or {})) for subject, reply, payload, headers in MESSAGES]
    got = asyncio.run(scenario())
    assert [(s, r, d) for s, r, d, _ in got] == [(s, r, d) for s, r, d, _ in expected]


@pytest.mark.parametrize("reply", [
    "$JS.ACK.USER_TXN.GRP_MAKER.1.42.17.1764201600123456789.99",  # before domains and account hashes
    "$JS.ACK._.ACCHASH.USER_TXN.GRP_MAKER.3.42.17.1764201600123456789.0",  # 11 tokens
    "$JS.ACK.hub.ACCHASH.USER_TXN.GRP_MAKER.1.42.17.1764201600123456789.5.x1y2",  # 12 tokens
])
def test_delivery_equals_nats_py_metadata(reply):
    msg = Msg(None, subject="USER_TXN.maker", reply=reply)  # type: ignore[arg-type]
    meta = msg.metadata
    assert delivery(msg) == (meta.stream, meta.sequence.stream, meta.timestamp, meta.num_pending)
