"""The worker's own NATS wire shortcuts agree with nats-py: batched publishes (as one protocol write, and
message by message while reconnecting) arrive exactly as ``nc.publish`` sends them, and the delivery
metadata read from a reply subject equals nats-py's ``msg.metadata``."""

from __future__ import annotations

import asyncio
import base64

import pytest
from nats.aio.msg import Msg
from nats.errors import BadHeaderError
from support import processed

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.worker.wire import delivery, encode, publish_all

MESSAGES = [
    ("wire.a", "", b"+ACK", None),
    ("wire.b", "reply.1", b'{"x": 1}', {"Nats-Msg-Id": "verdict-t1"}),
    ("wire.c", "", b"", {"Nats-Msg-Id": "  padded  ", "Other": "two\r\nlines"}),
    ("wire.d", "reply.2", bytes(range(256)), None),
    ("wire.e", "", "ünïcode".encode(), {"Nats-Msg-Id": "verdict-ü"}),
]


def received(msg: Msg) -> tuple:
    return msg.subject, msg.reply, msg.data, dict(msg.headers or {})


async def receive(url: str, send) -> list[tuple]:
    """What a subscriber on ``wire.>`` receives while ``send()`` runs (waiting for all of MESSAGES)."""
    listener = await connect_nats(NatsSettings(url=url))
    try:
        got: list[Msg] = []
        await listener.subscribe("wire.>", cb=collector(got))
        await processed(listener)
        await send()
        await until(lambda: len(got) == len(MESSAGES), seconds=2)
        return [received(msg) for msg in got]
    finally:
        await listener.close()


async def deliveries(url: str, publish) -> list[tuple]:
    """What a subscriber receives when ``publish(nc)`` sends MESSAGES on a fresh connection."""
    sender = await connect_nats(NatsSettings(url=url))

    try:
        return await receive(url, lambda: publish(sender))
    finally:
        await sender.close()


async def until(condition, seconds: float) -> None:
    """Poll ``condition`` every 10 ms for at most ``seconds``."""
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)


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


def test_batch_is_one_protocol_write_while_connected(nats_server):
    wire = b"".join(encode(*message) for message in MESSAGES)
    assert wire.count(b"PUB ") == len(MESSAGES)  # HPUB included
    assert encode("s", "", b"+ACK", None) == b"PUB s 4\r\n+ACK\r\n"
    assert encode("s", "r", b"x", {"Nats-Msg-Id": "m"}) == \
        b"HPUB s r 28 29\r\nNATS/1.0\r\nNats-Msg-Id: m\r\n\r\nx\r\n"

    async def commands_sent() -> list[bytes]:
        """What publish_all hands to a live connection's outgoing queue (nats-py's own queueing, recorded)."""
        nc = await connect_nats(NatsSettings(url=nats_server.url))
        try:
            sent: list[bytes] = []
            queue = nc._send_command

            async def recording(cmd: bytes, priority: bool = False) -> None:
                sent.append(cmd)
                await queue(cmd, priority)

            nc._send_command = recording  # type: ignore[method-assign]
            await publish_all(nc, MESSAGES)
            return sent
        finally:
            await nc.close()

    # Fails when the batch falls back to one publish per message (say, nats-py renamed _send_command).
    assert asyncio.run(commands_sent()) == [wire]


def test_batched_publish_while_reconnecting_is_buffered_and_sent_after(nats_server_factory):
    """While the connection is down, a batch is buffered (through nats-py's publish) and sent once it is
    back; a stream on file storage catches it (a subscriber could join only after the sender's buffer is sent)."""
    server = nats_server_factory()

    async def scenario() -> list[tuple]:
        sender = await connect_nats(NatsSettings(url=server.url), max_reconnect_attempts=-1, reconnect_time_wait=0.1)
        try:
            api = JetStreamApi(sender)
            await api.request("STREAM.CREATE.WIRE", {"name": "WIRE", "subjects": ["wire.>"], "storage": "file"})
            server.stop()
            await until(lambda: not sender.is_connected, seconds=5)
            assert not sender.is_connected
            await publish_all(sender, MESSAGES)
            assert sender.pending_data_size > 0
            server.start()
            await until(lambda: sender.is_connected, seconds=10)
            await processed(sender)
            for _ in range(200):  # the stream stores what it received asynchronously: at most 2 s
                if (await api.request("STREAM.INFO.WIRE"))["state"]["messages"] == len(MESSAGES):
                    break
                await asyncio.sleep(0.01)
            stored = []
            for sequence in range(1, len(MESSAGES) + 1):
                reply = await api.request("STREAM.MSG.GET.WIRE", {"seq": sequence})
                stored.append(reply["message"])
            return stored
        finally:
            await sender.close()

    stored = asyncio.run(scenario())
    assert [(m["subject"], base64.b64decode(m.get("data", ""))) for m in stored] == \
        [(subject, payload) for subject, _, payload, _ in MESSAGES]
    assert b"Nats-Msg-Id: verdict-t1" in base64.b64decode(stored[1]["hdrs"])


@pytest.mark.parametrize("reply", [
    "$JS.ACK.USER_TXN.GRP_MAKER.1.42.17.1764201600123456789.99",  # before domains and account hashes
    "$JS.ACK._.ACCHASH.USER_TXN.GRP_MAKER.3.42.17.1764201600123456789.0",  # 11 tokens
    "$JS.ACK.hub.ACCHASH.USER_TXN.GRP_MAKER.1.42.17.1764201600123456789.5.x1y2",  # 12 tokens
])
def test_delivery_equals_nats_py_metadata(reply):
    msg = Msg(None, subject="USER_TXN.maker", reply=reply)  # type: ignore[arg-type]
    read = delivery(msg)
    assert msg._metadata is None  # read from the reply subject, without nats-py's (memoized) metadata
    meta = msg.metadata
    assert read == (meta.stream, meta.sequence.stream, meta.timestamp, meta.num_pending)
