"""`jsctl worker --js-domain leaf` connected to the hub: it pulls from the leaf's consumer through
``$JS.leaf.API`` (a hub and a leaf node on loopback, tests/leafnodes.py)."""

from __future__ import annotations

from tests.worker.harness import create_user_txn, event, publish, run_worker, transactions


def test_the_worker_pulls_from_the_leafs_consumer_through_the_hub(hub_and_leaf, worker_db):
    leaf = hub_and_leaf.leaf.url
    create_user_txn(leaf)
    publish(leaf, [event("t1", "u1", "10"), event("t2", "u1", "20")])
    done = run_worker(hub_and_leaf.hub.url, worker_db, "--js-domain", "leaf")
    assert done.returncode == 0, done.stderr
    assert sorted(transactions(worker_db)) == ["t1", "t2"]


def test_publish_counts_each_message_once_when_a_stream_in_each_domain_stores_it(hub_and_leaf, jsctl):
    """From the hub, a subject that a hub stream and a leaf stream both capture is stored by both and acked by
    both: each message counts once (it was counted twice: "published 1505, failed -505")."""
    from leafnodes import with_connection

    async def streams(nc):
        await nc.jetstream(domain="leaf").add_stream(name="LEAF_COPY", subjects=["both.>"])
        await nc.jetstream().add_stream(name="HUB_COPY", subjects=["both.>"])

    hub = hub_and_leaf.hub.url
    with_connection(hub, streams)
    done = jsctl("publish", "--count", "1000", "--subject", "both.x", "--server", hub, "--js-domain", "leaf")
    assert (done.returncode, done.stdout) == (0, "published 1000, duplicates 0, failed 0\n"), done.stderr

    async def stored(nc):
        return [(await js.stream_info(name)).state.messages for js, name in
                ((nc.jetstream(domain="leaf"), "LEAF_COPY"), (nc.jetstream(), "HUB_COPY"))]

    assert with_connection(hub, stored) == [1000, 1000]
