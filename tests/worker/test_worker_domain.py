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
