"""A KV bucket on the 3-node cluster: replicas 3 -> 1 -> 3 are updates of its backing stream in place
(never a replace), apply waits for the replicas to converge, and the keys stay (issue #13)."""

from __future__ import annotations

from bucket_helpers import buckets, on_nats, plan

from reconciler.manifest.model import KV, Desired

KEYS = 50


def bucket(replicas: int) -> Desired:
    return buckets((KV, {"bucket": "CONFIG", "history": 3, "replicas": replicas}))


def apply(url: str, desired: Desired) -> list[tuple[str, str, list[str]]]:
    return [(str(c.address), str(c.action), [d.path for d in c.diff]) for c in plan(url, desired, apply=True).changes]


def on_bucket(url: str, work):
    async def with_bucket(js):
        return await work(js, await js.key_value("CONFIG"))

    return on_nats(url, with_bucket)


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
