"""/healthz and /metrics of the worker (and of `jsctl up`, from before it applies) on real servers that
stop and come back, and a consumer that vanishes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from reconciler.db.lock import LOCK_KEYS
from reconciler.dev.servers import PostgresServer, free_port, wait_for
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from tests.worker.harness import REPO, create_user_txn, event, publish, recorded, worker_command

pytestmark = pytest.mark.slow


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""  # not serving (yet)


def wait_health(port: int, status: int, down: list[str] | None = None, timeout: float = 60) -> dict:
    """The /healthz body once it answers ``status`` (naming exactly ``down`` as down, if given)."""
    seen: dict = {}

    def reached() -> bool:
        code, text = get(port, "/healthz")
        seen.update(code=code, body=json.loads(text) if text else {})
        return code == status and (down is None or seen["body"].get("down") == down)

    wait_for(reached, timeout=timeout, interval=0.2, what=f"/healthz {status} {down or ''} (last: {seen})")
    return seen["body"]


def metric(port: int, name: str) -> float:
    _, text = get(port, "/metrics")
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match[1])


def delete_consumer(url: str, name: str = "GRP_MAKER") -> None:
    async def delete() -> None:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            await JetStreamApi(nc).request(f"CONSUMER.DELETE.USER_TXN.{name}")
        finally:
            await nc.close()

    asyncio.run(delete())


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    return stderr


def test_healthz_follows_postgres_nats_and_the_consumer(nats_server_factory):
    nats = nats_server_factory()
    create_user_txn(nats.url)
    # Not under pytest's basetemp (see test_worker_faults.py): a Postgres of its own, to stop and start.
    pg_dir = Path(tempfile.mkdtemp(prefix="jsctl-health-pg-"))
    pg = PostgresServer(pg_dir / "data", password=uuid.uuid4().hex).start()
    port = free_port()
    proc = None
    try:
        database_url = pg.create_database("health")
        from reconciler.db import upgrade_to_head
        from reconciler.db.settings import DatabaseSettings

        upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
        proc = subprocess.Popen(worker_command(nats.url, database_url, "--metrics-port", str(port)), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        body = wait_health(port, 200)
        assert body == {"status": "ok", "phase": "running", "down": [], "checks": {
            name: {"ok": True} for name in ("worker", "nats", "postgres", "consumer")}}

        pg.stop("immediate")
        body = wait_health(port, 503, ["postgres"])
        assert body["status"] == "unavailable" and body["checks"]["postgres"]["ok"] is False
        assert pg.password not in json.dumps(body)
        pg.start()
        wait_health(port, 200)

        nats.stop()
        body = wait_health(port, 503, ["nats", "consumer"])
        assert body["checks"]["consumer"]["error"] == "not checked: NATS is down"
        nats.start()
        wait_health(port, 200)
        assert metric(port, 'jsctl_worker_errors_total{kind="connection"}') >= 1

        delete_consumer(nats.url)
        body = wait_health(port, 503, ["consumer"])
        assert "consumer USER_TXN/GRP_MAKER not found" in body["checks"]["consumer"]["error"]
        create_user_txn(nats.url)
        wait_health(port, 200)

        # It still works after all that, and its batches are in the latency histogram.
        publish(nats.url, [event(f"h{i}", "u1", "1") for i in range(20)])
        wait_for(lambda: recorded(database_url) == 20, timeout=60, what="the worker to record 20 events")
        wait_for(lambda: metric(port, "jsctl_worker_processed_total") == 20, timeout=10, what="the counters")
        assert metric(port, "jsctl_worker_batch_duration_seconds_count") >= 1
        assert metric(port, 'jsctl_worker_batch_duration_seconds_bucket{le="+Inf"}') >= 1
        stop(proc)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        pg.stop("immediate")
        shutil.rmtree(pg_dir, ignore_errors=True)


def test_up_serves_health_from_before_apply_until_the_worker_runs(js_account, postgres):
    """While another apply holds the database's lock, `jsctl up` waits in apply: /healthz says so (503)."""
    database_url = postgres.create_database(f"up_{uuid.uuid4().hex[:12]}")
    port = free_port()
    env = {"NATS_URL": js_account, "DATABASE_URL": database_url, "JSCTL_DEV_DATABASE_URL": postgres.url()}
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEYS)
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "up", "--metrics-port", str(port)], cwd=REPO,
                                env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            body = wait_health(port, 503)
            assert body["phase"] == "applying" and body["down"] == ["worker", "nats", "postgres", "consumer"]
            assert body["checks"]["worker"] == {"ok": False, "error": "applying"}
            wait_for(lambda: holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()[0] == 1,
                timeout=60, what="jsctl up to wait for the apply lock")
            assert get(port, "/healthz")[0] == 503  # still applying
        except BaseException:
            proc.kill()
            proc.wait(10)
            raise
    try:  # the lock is released with the holder's connection
        wait_health(port, 200, timeout=120)
    finally:
        stop(proc)


def test_a_port_already_in_use_is_one_clear_error(user_txn, worker_db):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(worker_command(user_txn, worker_db, "--until-idle", "--metrics-port", str(port)),
                              capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == f"jsctl: error: cannot serve metrics on --metrics-port {port}: Address already in use\n"
