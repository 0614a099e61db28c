"""Helpers shared by the worker tests: publish raw events, read the database and the verdict stream."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import yaml
from support import REPO

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

MAKER, VALIDATOR = "USER_TXN.maker", "USER_TXN.validator"
# Kill and restart tests wait for unacked batches to come back: a short ack_wait keeps them quick.
TEST_ACK_WAIT = "3s"


def create_user_txn(url: str, ack_wait: str = TEST_ACK_WAIT) -> None:
    """The repo's own streams.yaml and consumers.yaml, applied with `jsctl apply` (ack_wait overridden)."""
    manifest = yaml.safe_load((REPO / "consumers.yaml").read_text())
    for consumer in manifest["consumers"]:
        consumer["ack_wait"] = ack_wait
    with tempfile.TemporaryDirectory() as tmp:
        consumers = Path(tmp) / "consumers.yaml"
        consumers.write_text(yaml.safe_dump(manifest))
        done = subprocess.run([sys.executable, "-m", "reconciler", "apply", "--yes", "--server", url,
                               "-f", str(REPO / "streams.yaml"), "-f", str(consumers)],
                              capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr


async def _publish(url: str, messages: list[tuple[bytes, dict | None]], subject: str) -> None:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        js = nc.jetstream()
        futures = [await js.publish_async(subject, data, headers=headers) for data, headers in messages]
        await asyncio.gather(*futures)
    finally:
        await nc.close()


def publish(url: str, messages: list[bytes | tuple[bytes, dict | None]], subject: str = MAKER) -> None:
    """Publish raw payloads (optionally with headers) and wait for every ack."""
    normalized = [m if isinstance(m, tuple) else (m, None) for m in messages]
    asyncio.run(_publish(url, normalized, subject))


def event(transaction_id: str | None, user: str, amount: str, mode: str = "buy") -> bytes:
    body = {"userId": user, "transactionMode": mode, "amount": "AMOUNT"}
    if transaction_id is not None:
        body["transactionId"] = transaction_id
    return json.dumps(body).replace('"AMOUNT"', amount).encode()


def worker_command(url: str, database_url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", "worker", "--server", url, "--database-url", database_url,
            "--progress-interval", "1", *extra]


def run_worker(url: str, database_url: str, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`jsctl worker --until-idle` to completion."""
    return subprocess.run(worker_command(url, database_url, "--until-idle", *extra), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def new_database(postgres) -> str:
    """The URL of a new, empty database on ``postgres`` (tests/conftest.py), created over TCP."""
    database_url = postgres.url(f"w_{uuid.uuid4().hex[:12]}")
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database_url.rsplit("/", 1)[1]}"')
    return database_url


def query(database_url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def transactions(database_url: str) -> dict[str, tuple]:
    rows = query(database_url, "SELECT transaction_id, user_id, amount, status, reason, day FROM transactions")
    return {row[0]: row[1:] for row in rows}


def recorded(database_url: str) -> int:
    """How many transactions the database holds."""
    return query(database_url, "SELECT count(*) FROM transactions")[0][0]


def rejected(database_url: str) -> list[tuple]:
    return query(database_url, "SELECT stream_sequence, reason, raw, subject FROM rejected_messages ORDER BY 1")


async def _verdicts(url: str) -> list[dict]:
    """Every verdict in the stream (read with a throw-away ordered scan of the validator subject)."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        info = await api.request("STREAM.INFO.USER_TXN", {"subjects_filter": VALIDATOR})
        count = (info["state"].get("subjects") or {}).get(VALIDATOR, 0)
        js = nc.jetstream()
        sub = await js.subscribe(VALIDATOR, ordered_consumer=True)
        found = []
        for _ in range(count):
            msg = await sub.next_msg(timeout=10)
            found.append({**json.loads(msg.data, parse_float=Decimal), "_msg_id": msg.headers["Nats-Msg-Id"]})
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


def verdicts(url: str) -> list[dict]:
    return asyncio.run(_verdicts(url))


def check_invariants(url: str, database_url: str, published_ids: set[str], planted_bad: Counter) -> None:
    """Exactly once: one row per id, totals = sum of approved, one verdict per id, exactly the planted dead letters."""
    rows = transactions(database_url)
    assert set(rows) == published_ids
    totals = {(u, d): t for u, d, t in query(database_url, "SELECT user_id, day, approved_total FROM daily_totals")}
    summed: dict = {}
    for user, amount, status, _reason, day in rows.values():
        if status == "approved":
            summed[(user, day)] = summed.get((user, day), 0) + amount
    assert {k: v for k, v in totals.items() if v} == summed
    found = verdicts(url)
    per_id = Counter(v["transactionId"] for v in found)
    assert set(per_id) == published_ids and max(per_id.values()) == 1
    assert all(v["_msg_id"] == f"verdict-{v['transactionId']}" for v in found)
    assert all(v["status"] == rows[v["transactionId"]][2] for v in found)
    assert Counter(reason for _seq, reason, _raw, _subject in rejected(database_url)) == planted_bad


async def _consumer_state(url: str, consumer: str) -> dict:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        return await JetStreamApi(nc).request(f"CONSUMER.INFO.USER_TXN.{consumer}")
    finally:
        await nc.close()


def consumer_state(url: str, consumer: str = "GRP_MAKER") -> dict:
    return asyncio.run(_consumer_state(url, consumer))
