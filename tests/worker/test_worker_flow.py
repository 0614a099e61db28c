"""End to end: `jsctl worker` against a real nats-server and Postgres."""

from __future__ import annotations

import hashlib
from collections import Counter
from decimal import Decimal

from tests.worker.badevents import CORPUS
from tests.worker.harness import (
    check_invariants,
    consumer_state,
    create_user_txn,
    event,
    publish,
    query,
    rejected,
    run_worker,
    transactions,
)


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


def test_users_without_thresholds_get_the_default_flags(user_txn, worker_db):
    publish(user_txn, [event("d1", "new-user", "5"), event("d2", "new-user", "5.01"), event("d3", "new-user", "4"),
                       event("d4", "new-user", "2")])
    done = run_worker(user_txn, worker_db, "--default-max-amount", "5", "--default-daily-limit", "10")
    assert done.returncode == 0, done.stderr
    assert {k: v[3] for k, v in transactions(worker_db).items()} == {
        "d1": None, "d2": "over_max_amount", "d3": None, "d4": "over_daily_limit"}


def test_bad_events_are_dead_lettered_with_raw_bytes_and_terminated(user_txn, worker_db):
    publish(user_txn, [event("good-1", "u1", "5")] + [raw for _, raw, _ in CORPUS] + [event("good-2", "u1", "6")])
    done = run_worker(user_txn, worker_db)
    assert done.returncode == 0, done.stderr
    stored = rejected(worker_db)
    assert [(reason, raw, subject) for _seq, reason, raw, subject in stored] == [
        (reason, raw, "USER_TXN.maker") for _, raw, reason in CORPUS]
    assert [seq for seq, *_ in stored] == list(range(2, 2 + len(CORPUS)))
    check_invariants(user_txn, worker_db, {"good-1", "good-2"}, Counter(reason for _, _, reason in CORPUS))
    assert consumer_state(user_txn)["num_redelivered"] == 0  # terminated, never retried


def test_a_huge_dead_letter_keeps_its_first_64_kib_with_the_whole_size_and_digest(user_txn, worker_db):
    huge = b'{"userId":"u1","pad":"' + bytes(range(32, 127)) * 10_500 + b'"}'  # ~1 MB, under max_payload
    small = b"not json"
    publish(user_txn, [huge, small])
    done = run_worker(user_txn, worker_db)
    assert done.returncode == 0, done.stderr
    stored = query(worker_db, "SELECT reason, raw, raw_size, raw_digest FROM rejected_messages "
                              "ORDER BY stream_sequence")
    assert stored == [("payload_too_large", huge[:65536], len(huge), hashlib.sha256(huge).hexdigest()),
                      ("malformed_json", small, len(small), hashlib.sha256(small).hexdigest())]
    assert len(huge) > 900_000


def test_redelivered_and_republished_ids_add_nothing_and_conflicts_are_dead_lettered(user_txn, worker_db):
    publish(user_txn, [event("t1", "u1", "10")])
    assert run_worker(user_txn, worker_db).returncode == 0
    # The same event again (a publisher retry past the duplicate window), a conflicting one, and both
    # repeated inside one batch.
    publish(user_txn, [(event("t1", "u1", "10"), {"Nats-Msg-Id": "retry-1"}),
                       (event("t1", "u1", "11"), {"Nats-Msg-Id": "retry-2"}),
                       event("t2", "u2", "1"), event("t2", "u2", "1"), event("t2", "u2", "2")])
    done = run_worker(user_txn, worker_db)
    assert done.returncode == 0, done.stderr
    assert query(worker_db, "SELECT user_id, approved_total FROM daily_totals ORDER BY 1") == [
        ("u1", Decimal("10")), ("u2", Decimal("1"))]
    conflicts = query(worker_db, "SELECT transaction_id, stream_sequence FROM rejected_messages ORDER BY 2")
    assert conflicts == [("t1", 4), ("t2", 7)]  # sequence 2 is the first verdict
    check_invariants(user_txn, worker_db, {"t1", "t2"}, Counter(conflicting_duplicate=2))


def test_missing_consumer_or_schema_is_one_clear_error(js_account, worker_db, postgres):
    done = run_worker(js_account, worker_db)
    assert done.returncode == 1 and "consumer USER_TXN/GRP_MAKER not found" in done.stderr
    create_user_txn(js_account)
    done = run_worker(js_account, postgres.url())  # the maintenance database: no tables
    assert done.returncode == 1 and "lacks the worker's schema" in done.stderr and "jsctl apply" in done.stderr
    assert "Traceback" not in done.stderr and postgres.password not in done.stderr
