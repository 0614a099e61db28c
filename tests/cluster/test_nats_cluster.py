"""The cluster fixture itself: an R3 stream stays readable and writable through a node crash,
and the restarted node catches up (raw $JS.API, no reconciler involved)."""

from __future__ import annotations

import asyncio
import json

import pytest

from reconciler.dev.servers import wait_for
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.converge import ConvergenceTimeout, wait_converged
from reconciler.jetstream.settings import NatsSettings

STREAM = {"name": "ORDERS", "subjects": ["orders.>"], "num_replicas": 3}
DEADLINE_S = 30


async def publish_acked(nc, subject: str, count: int, start: int = 0) -> list[int]:
    """Publish with acks; a publish that times out during a leader change is retried (bounded).

    Each message has a Nats-Msg-Id: a retry of one that was stored but whose ack was lost is then
    answered as a duplicate with the original sequence, instead of being stored twice."""
    seqs = []
    for i in range(start, start + count):
        for attempt in range(20):
            try:
                reply = await nc.request(subject, f"m{i}".encode(), timeout=2, headers={"Nats-Msg-Id": f"m{i}"})
                ack = json.loads(reply.data)
            except Exception:
                if attempt == 19:
                    raise
                await asyncio.sleep(0.2)
                continue
            assert "error" not in ack, ack
            seqs.append(ack["seq"])
            break
    return seqs


def test_cluster_has_a_meta_leader_and_three_tagged_peers(cluster):
    leader = cluster.meta_leader()
    assert leader in {"n1", "n2", "n3"}
    meta = cluster.meta(cluster.node(leader))
    assert meta["cluster_size"] == 3
    assert sorted(p["name"] for p in meta["replicas"]) == sorted({"n1", "n2", "n3"} - {leader})


def test_r3_stream_survives_a_node_kill_and_the_node_catches_up(cluster):
    async def scenario() -> None:
        nc = await connect_nats(NatsSettings(url=cluster.url))
        try:
            api = JetStreamApi(nc)
            await api.request("STREAM.CREATE.ORDERS", STREAM)
            await wait_converged(api, "stream/ORDERS", "STREAM.INFO.ORDERS", 3, timeout=DEADLINE_S)
            assert await publish_acked(nc, "orders.new", 100) == list(range(1, 101))

            with pytest.raises(ConvergenceTimeout, match=r"replicas not converged after 1s: .*3/5 peers"):
                await wait_converged(api, "stream/ORDERS", "STREAM.INFO.ORDERS", 5, timeout=1)

            victim = (await api.request("STREAM.INFO.ORDERS"))["cluster"]["leader"]
            cluster.kill(victim)
            progress: list[str] = []
            state = await wait_converged(api, "stream/ORDERS", "STREAM.INFO.ORDERS", 3, timeout=DEADLINE_S,
                                         progress=progress.append)
            assert state.leader != victim and state.without_unreachable() == (victim,)
            assert progress[-1].startswith(f"stream/ORDERS: converged without {victim} (unreachable)")
            assert all(line.startswith("stream/ORDERS: ") for line in progress)

            # Still writable and readable on the two survivors.
            assert await publish_acked(nc, "orders.new", 100, start=100) == list(range(101, 201))
            info = await api.request("STREAM.INFO.ORDERS")
            assert info["cluster"]["leader"] != victim and info["state"]["messages"] == 200
            last = await api.request("STREAM.MSG.GET.ORDERS", {"seq": 200})
            assert last["message"]["seq"] == 200

            await asyncio.to_thread(cluster.restart, victim)
            state = await wait_converged(api, "stream/ORDERS", "STREAM.INFO.ORDERS", 3, timeout=DEADLINE_S)
            assert {p.name for p in state.followers} | {state.leader} == {"n1", "n2", "n3"}
        finally:
            await nc.close()

    asyncio.run(scenario())
    # Each node's own copy (its monitoring endpoint, not the leader's view) holds every message.
    wait_for(lambda: [cluster.stream_messages(node, "ORDERS") for node in cluster.nodes] == [200, 200, 200],
             timeout=DEADLINE_S, what="every node to hold the 200 messages")
