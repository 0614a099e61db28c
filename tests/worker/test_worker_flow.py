"""End to end: `jsctl worker` against a real nats-server and Postgres."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tests.worker.harness import check_invariants, event, publish, query, run_worker, transactions


def test_records_decides_and_publishes_verdicts(user_txn, worker_db):
    query(worker_db, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES ('u1', 100, 150)")
    publish(user_txn, [event("t1", "u1", "100"), event("t2", "u1", "100.000001"), event("t3", "u1", "50"),
                       event("t4", "u1", "0.000001"), event("t5", "u2", "123.456")])
    done = run_worker(user_txn, worker_db)
    assert done.returncode == 0, done.stderr
    rows = transactions(worker_db)
    assert {k: (v[2], v[3]) for k, v in rows.items()} == {
        "t1": ("approved", None), "t2": ("rejected", "over_max_amount"), "t3": ("approved", None),
        "t4": ("rejected", "over_daily_limit"), "t5": ("approved", None)}
    assert rows["t5"][1] == Decimal("123.456")
    check_invariants(user_txn, worker_db, set(rows), Counter())
