"""A KV bucket on the 3-node cluster: replicas 3 -> 1 -> 3 are updates of its backing stream in place
(never a replace), apply waits for the replicas to converge, and the keys stay (issue #13)."""

from __future__ import annotations

import asyncio

import nats

from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.session import JetStreamSession
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest.model import KV, DeclaredResource, Desired

KEYS = 50


def bucket(replicas: int) -> Desired:
    desired = Desired()
    desired.key_value["CONFIG"] = DeclaredResource(KV, "CONFIG", {"bucket": "CONFIG", "history": 3,
                                                                  "replicas": replicas})
    return desired


def apply(url: str, desired: Desired) -> list[tuple[str, str, list[str]]]:
    async def run():
        async with JetStreamSession(NatsSettings(url=url)) as session:
            plan = await session.plan(desired, ownership=Ownership("app"))
            await session.apply(desired, plan.pending, ownership=Ownership("app"))
            return [(str(c.address), str(c.action), [d.path for d in c.diff]) for c in plan.changes]

    return asyncio.run(run())


def on_bucket(url: str, work):
    async def run():
        nc = await nats.connect(servers=url.split(","))  # every node
        try:
            js = nc.jetstream()
            return await work(js, await js.key_value("CONFIG"))
        finally:
            await nc.close()

    return asyncio.run(run())


def state(url: str) -> tuple[int, set[str], list[str]]:
    """(replicas, the peers holding it, its keys)."""
    async def read(js, kv):
        info = await js.stream_info("KV_CONFIG")
        peers = {info.cluster.leader, *(p.name for p in info.cluster.replicas or [])}
        return info.config.num_replicas, peers, sorted(await kv.keys())

    return on_bucket(url, read)


def test_bucket_replicas_3_to_1_to_3_in_place_keeping_the_keys(cluster):
    url = cluster.url
    assert apply(url, bucket(3)) == [("kv/CONFIG", "create", [])]

    async def fill(js, kv):
        for i in range(KEYS):
            await kv.put(f"k{i:03d}", b"v")

    on_bucket(url, fill)
    keys = [f"k{i:03d}" for i in range(KEYS)]
    assert apply(url, bucket(1)) == [("kv/CONFIG", "update", ["num_replicas"])]
    replicas, peers, found = state(url)
    assert (replicas, len(peers), found) == (1, 1, keys)
    assert apply(url, bucket(3)) == [("kv/CONFIG", "update", ["num_replicas"])]
    replicas, peers, found = state(url)
    assert (replicas, peers, found) == (3, {"n1", "n2", "n3"}, keys)
    assert apply(url, bucket(3)) == []
