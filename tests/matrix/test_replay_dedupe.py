"""What `jsctl rejected replay` relies on, on every supported server: the stream keeps a message's id for
its duplicate window even after a consumer terminated the message (so a replay cannot reuse it), stores
a message under a new id with the replay's headers intact, and drops that replay when it is sent again."""

from __future__ import annotations

import asyncio

from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.worker.events import ORIGINAL_MSG_ID


async def exchange(url: str) -> dict:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        js = nc.jetstream()
        await js.add_stream(name="REPLAY", subjects=["REPLAY.*"], duplicate_window=60)
        first = await js.publish("REPLAY.in", b"bad", headers={"Nats-Msg-Id": "tx-1"})
        sub = await js.pull_subscribe("REPLAY.in", durable="W")
        (msg,) = await sub.fetch(1, timeout=5)
        await msg.term()
        await sub.unsubscribe()
        same_id = await js.publish("REPLAY.in", b"bad", headers={"Nats-Msg-Id": "tx-1"})
        replay_headers = {"Nats-Msg-Id": "jsctl-replay-REPLAY-1", ORIGINAL_MSG_ID: "tx-1"}
        replay = await js.publish("REPLAY.in", b"bad", headers=replay_headers)
        again = await js.publish("REPLAY.in", b"bad", headers=replay_headers)
        stored = await js.get_msg("REPLAY", replay.seq)
        return {"first": (first.seq, bool(first.duplicate)), "same_id": (same_id.seq, bool(same_id.duplicate)),
                "replay": (replay.seq, bool(replay.duplicate)), "again": (again.seq, bool(again.duplicate)),
                "headers": {k: stored.headers[k] for k in replay_headers}}
    finally:
        await nc.close()


def test_a_terminated_message_keeps_its_id_and_a_replay_gets_in_once(js_account):
    assert asyncio.run(exchange(js_account)) == {
        "first": (1, False), "same_id": (1, True), "replay": (2, False), "again": (2, True),
        "headers": {"Nats-Msg-Id": "jsctl-replay-REPLAY-1", ORIGINAL_MSG_ID: "tx-1"}}
