"""The worker on a 3-node cluster while a node is killed and restarted (issue: clusters).

The repo's manifests, with the stream made R3, are applied with jsctl; 10,000 events are published
with acks (a publish left unacknowledged by the failover is sent again with the same Nats-Msg-Id,
which the stream's duplicate window drops); meanwhile the node leading the stream is killed with
SIGKILL and restarted. Every acknowledged event must end in Postgres exactly once, and its verdict
in the stream exactly once. The figures are printed for the closing note (pytest -s shows them).
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import threading
from collections import Counter
from decimal import Decimal

import pytest
import yaml

from reconciler.dev.servers import wait_for
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from tests.support import REPO
from tests.worker.harness import MAKER, check_invariants, consumer_state, event, recorded, worker_command

EVENTS = 10_000
CHUNK = 500  # acked publishes in flight at once
ATTEMPTS = 30  # per event: a failover takes a few seconds, each attempt waits up to 2 s
ACK_WAIT = "3s"  # so a batch the killed node had delivered comes back quickly

pytestmark = pytest.mark.slow


def cluster_manifests(directory) -> list[str]:
    """The repo's own streams.yaml / consumers.yaml, with the stream R3 and a short ack_wait."""
    streams = yaml.safe_load((REPO / "streams.yaml").read_text())
    consumers = yaml.safe_load((REPO / "consumers.yaml").read_text())
    for stream in streams["streams"]:
        stream["num_replicas"] = 3
    for consumer in consumers["consumers"]:
        consumer["ack_wait"] = ACK_WAIT
    directory.mkdir()
    (directory / "streams.yaml").write_text(yaml.safe_dump(streams))
    (directory / "consumers.yaml").write_text(yaml.safe_dump(consumers))
    return ["-f", str(directory)]


class Publisher:
    """Acked publishes in chunks; what failed is sent again (same Nats-Msg-Id) until acked, bounded."""

    def __init__(self, url: str, messages: list[tuple[bytes, dict]]):
        self.url, self.messages = url, messages
        self.acked: set[str] = set()
        self.attempts = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._publish())
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    async def _publish(self) -> None:
        nc = await connect_nats(NatsSettings(url=self.url), max_reconnect_attempts=-1)
        js = nc.jetstream(timeout=2)
        try:
            for start in range(0, len(self.messages), CHUNK):
                pending = self.messages[start:start + CHUNK]
                for _ in range(ATTEMPTS):
                    if not pending:
                        break
                    self.attempts += len(pending)
                    results = await asyncio.gather(*(js.publish(MAKER, data, headers=headers)
                                                     for data, headers in pending), return_exceptions=True)
                    self.acked.update(h["Nats-Msg-Id"] for (_, h), r in zip(pending, results, strict=True)
                                      if not isinstance(r, BaseException))
                    pending = [m for m, r in zip(pending, results, strict=True) if isinstance(r, BaseException)]
                    if pending:
                        await asyncio.sleep(0.5)
                assert not pending, f"{len(pending)} events never acknowledged"
        finally:
            await nc.close()


def all_inputs_acked(url: str) -> bool:
    state = consumer_state(url, "GRP_MAKER")
    return state["num_pending"] == 0 and state["num_ack_pending"] == 0


def user_txn_info(url: str) -> dict:
    async def info() -> dict:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            return await JetStreamApi(nc).request("STREAM.INFO.USER_TXN")
        finally:
            await nc.close()

    return asyncio.run(info())


def test_worker_keeps_every_acked_event_exactly_once_through_a_node_kill(jsctl, cluster, worker_db, tmp_path):
    done = jsctl("apply", *cluster_manifests(tmp_path / "manifests"), "--yes", env={"NATS_URL": cluster.url})
    assert done.returncode == 0, done.stdout + done.stderr

    rng = random.Random(7)
    messages = [(event(f"c-{i}", f"user-{rng.randrange(200)}", str(Decimal(rng.randint(1, 2_000_000)).scaleb(-3))),
                 {"Nats-Msg-Id": f"c-{i}"}) for i in range(EVENTS)]
    worker = subprocess.Popen(worker_command(cluster.url, worker_db), cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        publisher = Publisher(cluster.url, messages)
        publisher.thread.start()
        wait_for(lambda: len(publisher.acked) >= EVENTS // 3 or publisher.error, timeout=60,
                 what="a third of the events published")
        victim = user_txn_info(cluster.url)["cluster"]["leader"]
        cluster.kill(victim)
        wait_for(lambda: len(publisher.acked) >= 2 * EVENTS // 3 or publisher.error, timeout=90,
                 what="two thirds published with a node down")
        cluster.restart(victim)
        publisher.thread.join(120)
        assert publisher.error is None and not publisher.thread.is_alive(), publisher.error
        # Done when every input is acknowledged: the worker acks an event only once it is recorded
        # and its verdict is stored, so nothing of it is left in flight.
        wait_for(lambda: all_inputs_acked(cluster.url), timeout=120, interval=0.5,
                 what="the worker to acknowledge every event")
    finally:
        worker.send_signal(signal.SIGTERM)
        _, log = worker.communicate(timeout=60)
    assert worker.returncode == 0, log

    ids = {h["Nats-Msg-Id"] for _, h in messages}
    assert publisher.acked == ids
    check_invariants(cluster.url, worker_db, ids, Counter())  # one row and one verdict per event; totals agree
    print(f"\ncluster worker run ({victim} killed and restarted): {EVENTS} events, {publisher.attempts} publish "
          f"attempts, {len(publisher.acked)} acknowledged, {recorded(worker_db)} recorded once each, "
          f"{len(ids)} verdicts once each, 0 duplicates, {len(ids - publisher.acked)} lost")
