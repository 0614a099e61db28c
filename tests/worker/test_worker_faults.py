"""Exactly once under faults: worker kill -9, nats-server and Postgres restarts, two workers on hot users.

Each test checks the invariants of tests/worker/harness.py:check_invariants after the storm.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.dev.servers import PostgresServer, wait_for
from tests.worker.badevents import CORPUS
from tests.worker.harness import (
    REPO,
    check_invariants,
    create_user_txn,
    event,
    publish,
    query,
    recorded,
    run_worker,
    worker_command,
)

pytestmark = pytest.mark.slow


def storm(count: int, rng: random.Random, *, users: int = 300, bad_every: int = 500):
    """``count`` valid events (with Nats-Msg-Id) and a planted bad event every ``bad_every``."""
    messages, ids, planted = [], set(), Counter()
    for i in range(count):
        transaction_id = f"tx-{i}"
        amount = Decimal(rng.randint(1, 3_000_000)).scaleb(-3)
        messages.append((event(transaction_id, f"user-{rng.randrange(users)}", str(amount),
                               rng.choice(["buy", "sell"])), {"Nats-Msg-Id": transaction_id}))
        ids.add(transaction_id)
        if i % bad_every == bad_every - 1:
            _, raw, reason = CORPUS[(i // bad_every) % len(CORPUS)]
            messages.append((raw, None))
            planted[reason] += 1
    return messages, ids, planted


def publish_in_background(url: str, messages: list, chunk: int = 1000) -> threading.Thread:
    def run() -> None:
        for start in range(0, len(messages), chunk):
            publish(url, messages[start:start + chunk])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def start_worker(url: str, database_url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(worker_command(url, database_url, *extra), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def stop_worker(proc: subprocess.Popen) -> str:
    """SIGTERM: the worker finishes its batch and exits 0."""
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    return stderr


def test_exactly_once_when_the_worker_is_killed_again_and_again(user_txn, worker_db):
    rng = random.Random(20261127)
    messages, ids, planted = storm(20_000, rng)
    publisher = publish_in_background(user_txn, messages)
    for kill in range(6):
        proc = start_worker(user_txn, worker_db, "--pipeline", str(1 + kill % 2))
        try:
            if kill == 5:  # on a slow machine every earlier worker may have died while starting up
                wait_for(lambda: recorded(worker_db) > 0, timeout=60, what="a worker to record events")
            time.sleep(rng.uniform(0.6, 2.5))  # a seeded random moment: start-up, mid-batch, between batches
        finally:
            proc.kill()
            proc.wait(10)
    publisher.join(120)
    assert not publisher.is_alive()
    assert recorded(worker_db) > 0  # the killed workers did get work done between kills
    done = run_worker(user_txn, worker_db, timeout=180)
    assert done.returncode == 0, done.stderr
    check_invariants(user_txn, worker_db, ids, planted)


def test_exactly_once_across_nats_server_and_postgres_restarts(nats_server_factory):
    nats = nats_server_factory()
    create_user_txn(nats.url)
    # Not under pytest's basetemp: every pytest session started meanwhile (other suites on this machine)
    # resets its permissions, and the postgres system user could no longer reach its data directory.
    pg_dir = Path(tempfile.mkdtemp(prefix="jsctl-worker-pg-"))
    pg = PostgresServer(pg_dir / "data", password=uuid.uuid4().hex).start()
    try:
        database_url = pg.create_database("restarts")
        from reconciler.db import upgrade_to_head
        from reconciler.db.settings import DatabaseSettings

        upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
        messages, ids, planted = storm(6_000, random.Random(7), bad_every=1000)
        worker = start_worker(nats.url, database_url)
        try:
            publisher = publish_in_background(nats.url, messages[:3000])
            wait_for(lambda: recorded(database_url) > 500, timeout=60, what="the worker to make progress")
            # Every publish acknowledged before the restart: one cut off by it would be lost, not redelivered.
            publisher.join(60)
            assert not publisher.is_alive()
            nats.stop()  # graceful restart on the same port and store directory (file storage)
            nats.start()
            publisher = publish_in_background(nats.url, messages[3000:])
            wait_for(lambda: recorded(database_url) > 3500, timeout=90, what="progress after the NATS restart")
            pg.stop("immediate")  # like a crash: no checkpoint, crash recovery at start, same port
            pg.start()
            publisher.join(60)
            assert not publisher.is_alive()
            wait_for(lambda: recorded(database_url) == len(ids), timeout=120, interval=0.5,
                     what="every event recorded after the restarts")
            log = stop_worker(worker)
        finally:
            if worker.poll() is None:  # the test failed: the worker would retry its connections forever
                worker.kill()
                worker.wait(10)
        assert "NATS connection restored" in log and "database connection restored" in log
        check_invariants(nats.url, database_url, ids, planted)
    finally:
        pg.stop("immediate")
        shutil.rmtree(pg_dir, ignore_errors=True)


def test_two_workers_on_hot_users_never_exceed_the_daily_limit(user_txn, worker_db):
    hot = ["hot-a", "hot-b", "hot-c"]
    for user in hot:
        query(worker_db, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES (%s, 100, 1000)", user)
    rng = random.Random(3)
    messages = [(event(f"h{i}", rng.choice(hot), str(rng.randint(1, 120))), {"Nats-Msg-Id": f"h{i}"})
                for i in range(3000)]
    publish(user_txn, messages)
    # Two processes, each with two batches in flight: four transactions contend for three users' locks.
    workers = [start_worker(user_txn, worker_db, "--until-idle", "--pipeline", "2") for _ in range(2)]
    try:
        for proc in workers:
            _, stderr = proc.communicate(timeout=120)
            assert proc.returncode == 0, stderr
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    totals = query(worker_db, "SELECT user_id, approved_total FROM daily_totals")
    assert {user for user, _ in totals} == set(hot)
    assert all(Decimal(900) < total <= 1000 for _, total in totals)
    check_invariants(user_txn, worker_db, {f"h{i}" for i in range(3000)}, Counter())
