"""jsctl plan/apply on a 3-node JetStream cluster (tests/cluster/conftest.py), as a user runs it:
R3 streams and consumers, num_replicas 3 -> 1 -> 3 and placement tags with apply waiting for the
change to converge, and plan/apply while one node is down (offline resources shown, never
planned as create or delete)."""

from __future__ import annotations

import asyncio
import json

from support import write_manifests

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.converge import wait_converged
from reconciler.jetstream.settings import NatsSettings

ORDERS = {"name": "ORDERS", "subjects": ["orders.>"], "num_replicas": 3}
CONSUMERS = [
    {"stream": "ORDERS", "durable_name": "PROCESSOR", "ack_policy": "explicit", "max_ack_pending": 100},
    {"stream": "ORDERS", "durable_name": "AUDIT", "ack_policy": "explicit", "num_replicas": 1},
]
MESSAGES = 500


def with_api(url: str, work):
    async def main():
        nc = await connect_nats(NatsSettings(url=url))
        try:
            return await work(nc, JetStreamApi(nc))
        finally:
            await nc.close()

    return asyncio.run(main())


def stream_info(url: str, name: str) -> dict:
    return with_api(url, lambda nc, api: api.request(f"STREAM.INFO.{name}"))


def publish(url: str, subject: str, count: int) -> None:
    async def work(nc, api):
        for i in range(count):
            ack = json.loads((await nc.request(subject, f"m{i}".encode(), timeout=5)).data)
            assert "error" not in ack, ack

    with_api(url, work)


def peers(info: dict) -> set[str]:
    cluster = info["cluster"]
    return {cluster["leader"], *(p["name"] for p in cluster.get("replicas") or [])}


def all_current(info: dict) -> bool:
    return all(p["current"] for p in info["cluster"].get("replicas") or [])


def test_r3_streams_and_consumers_apply_and_plan_empty(jsctl, cluster, tmp_path):
    env = {"NATS_URL": cluster.url}
    files = write_manifests(tmp_path, [ORDERS], CONSUMERS)
    done = jsctl("apply", *files, "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Plan: 3 to create." in done.stdout and "verified" in done.stdout
    info = stream_info(cluster.url, "ORDERS")
    assert peers(info) == {"n1", "n2", "n3"} and all_current(info)
    again = jsctl("plan", *files, "--detailed-exitcode", env=env)
    assert again.returncode == 0, again.stdout + again.stderr


def test_replicas_3_to_1_to_3_and_placement_converge(jsctl, cluster, tmp_path):
    env = {"NATS_URL": cluster.url}
    assert jsctl("apply", *write_manifests(tmp_path / "r3", [ORDERS], CONSUMERS), "--yes", env=env).returncode == 0
    publish(cluster.url, "orders.new", MESSAGES)

    pinned = {**ORDERS, "num_replicas": 1, "placement": {"tags": ["node:n2"]}}
    files = write_manifests(tmp_path / "r1", [pinned], CONSUMERS)
    plan = jsctl("plan", *files, "--detailed-exitcode", env=env)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "~ stream/ORDERS  update" in plan.stdout and "num_replicas: 3 -> 1" in plan.stdout
    assert 'placement.tags: (none) -> ["node:n2"]' in plan.stdout
    done = jsctl("apply", *files, "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    info = stream_info(cluster.url, "ORDERS")  # apply returned after convergence: no polling needed here
    assert peers(info) == {"n2"} and info["state"]["messages"] == MESSAGES
    assert jsctl("plan", *files, "--detailed-exitcode", env=env).returncode == 0

    files = write_manifests(tmp_path / "r3-again", [ORDERS], CONSUMERS)
    plan = jsctl("plan", *files, "--detailed-exitcode", env=env)
    assert plan.returncode == 2 and "num_replicas: 1 -> 3" in plan.stdout, plan.stdout
    done = jsctl("apply", *files, "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    info = stream_info(cluster.url, "ORDERS")
    assert peers(info) == {"n1", "n2", "n3"} and all_current(info) and info["state"]["messages"] == MESSAGES
    assert jsctl("plan", *files, "--detailed-exitcode", env=env).returncode == 0

    # Only n1 and n2 are tagged ssd: the server refuses an R3 placement on it, as one clear line.
    files = write_manifests(tmp_path / "ssd", [{**ORDERS, "placement": {"tags": ["ssd"]}}], CONSUMERS)
    refused = jsctl("apply", *files, "--yes", env=env)
    assert refused.returncode == 1 and "no suitable peers for placement" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_with_one_node_down_plan_and_apply_still_work(jsctl, cluster, tmp_path):
    env = {"NATS_URL": cluster.url}
    on_n3 = {"name": "ON_N3", "subjects": ["n3.>"], "placement": {"tags": ["node:n3"]}}
    on_n3_consumer = {"stream": "ON_N3", "durable_name": "READER", "ack_policy": "explicit"}
    assert jsctl("apply", *write_manifests(tmp_path / "before", [ORDERS, on_n3], [*CONSUMERS, on_n3_consumer]),
                 "--yes", env=env).returncode == 0

    audit = with_api(cluster.url, lambda nc, api: api.request("CONSUMER.INFO.ORDERS.AUDIT"))
    offline = {"stream/ON_N3", "consumer/ON_N3/READER"} | (  # AUDIT is R1: where it went is up to the server
        {"consumer/ORDERS/AUDIT"} if audit["cluster"]["leader"] == "n3" else set())

    cluster.kill("n3")
    new_consumer = {"stream": "ORDERS", "durable_name": "NEW", "ack_policy": "explicit"}
    files = write_manifests(tmp_path / "after", [ORDERS, on_n3], [*CONSUMERS, on_n3_consumer, new_consumer])
    # At once, while leaders are being re-elected: whatever the server cannot read is offline,
    # nothing that exists is planned as create or delete (or plan fails in one clear line).
    early = jsctl("plan", *files, "-o", "json", env=env)
    if early.returncode == 0:
        actions = {c["address"]: c["action"] for c in json.loads(early.stdout)["changes"]}
        # A new consumer on a stream whose leader is being re-elected waits (offline) rather than failing.
        expected_new = "offline" if actions.get("stream/ORDERS") == "offline" else "create"
        assert actions.pop("consumer/ORDERS/NEW") == expected_new and set(actions.values()) <= {"offline"}, actions
    else:
        assert early.returncode == 1 and len(early.stderr.strip().splitlines()) == 1, early.stderr

    cluster.wait_healthy()  # a meta leader among the two others

    async def survivors_lead(nc, api) -> None:
        """Every replicated resource has a new leader (until then LIST calls them missing)."""
        await wait_converged(api, "stream/ORDERS", "STREAM.INFO.ORDERS", 3, timeout=30)
        await wait_converged(api, "consumer/ORDERS/PROCESSOR", "CONSUMER.INFO.ORDERS.PROCESSOR", 3, timeout=30)
        if "consumer/ORDERS/AUDIT" not in offline:
            await wait_converged(api, "consumer/ORDERS/AUDIT", "CONSUMER.INFO.ORDERS.AUDIT", 1, timeout=30)

    with_api(cluster.url, survivors_lead)

    plan = jsctl("plan", *files, "--detailed-exitcode", "-o", "json", env=env)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    actions = {c["address"]: c["action"] for c in json.loads(plan.stdout)["changes"]}
    assert actions == {**dict.fromkeys(offline, "offline"), "consumer/ORDERS/NEW": "create"}

    done = jsctl("apply", *files, "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "consumer/ORDERS/NEW: converged without n3 (unreachable)" in done.stderr
    created = with_api(cluster.url, lambda nc, api: api.request("CONSUMER.INFO.ORDERS.NEW"))
    assert created["config"]["durable_name"] == "NEW"

    # A deadline shorter than the grace period for unreachable peers: the consumer is created, apply
    # says it did not converge in time (exit 1), and the next plan has nothing left to do for it.
    impatient = {"stream": "ORDERS", "durable_name": "IMPATIENT", "ack_policy": "explicit"}
    files = write_manifests(tmp_path / "impatient", [ORDERS, on_n3], [*CONSUMERS, on_n3_consumer, new_consumer,
                                                                      impatient])
    late = jsctl("apply", *files, "--yes", "--converge-timeout", "1", env=env)
    assert late.returncode == 1 and "Traceback" not in late.stderr, late.stdout + late.stderr
    assert "consumer/ORDERS/IMPATIENT: accepted, but consumer/ORDERS/IMPATIENT: replicas not converged after 1s" \
        in late.stderr
    after = jsctl("plan", *files, "-o", "json", env=env)
    assert {c["action"] for c in json.loads(after.stdout)["changes"]} == {"offline"}, after.stdout

    # Left out of the manifests and pruned: an offline stream is still never deleted.
    pruned = write_manifests(tmp_path / "pruned", [ORDERS], [*CONSUMERS, new_consumer, impatient])
    done = jsctl("apply", *pruned, "--prune", "--allow-destructive", "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stream/ON_N3  offline" in done.stdout and "No changes." in done.stdout

    cluster.restart("n3")
    again = jsctl("plan", *files, "--detailed-exitcode", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
