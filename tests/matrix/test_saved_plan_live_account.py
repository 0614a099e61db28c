"""A saved plan in a live account, on every supported server version: what other clients do between
`jsctl plan --out` and `jsctl apply plan.json` refuses the plan only when the plan depends on it.

Clients' ephemeral and ordered consumers (push and pull, made by nats-py as applications make them)
and other teams' streams come and go: never stale, never `unmanaged`. A declared stream changed by
another client, or a stream `--prune` would delete, is: the refusal names each field.
"""

from __future__ import annotations

import asyncio
import json

import nats
from nats.js.api import AckPolicy, ConsumerConfig
from servers_matrix import server_binary
from support import run_jsctl, write_manifests

from reconciler.dev.servers import NatsServer
from reconciler.errors import EXIT_REFUSED
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

DAY = 86400 * 10**9
ORDERS = {"name": "ORDERS", "subjects": ["orders.>"], "max_age": "7d"}
PROCESS = {"stream": "ORDERS", "durable_name": "PROCESS", "ack_policy": "explicit"}


def request(url: str, subject: str, payload: dict | None = None) -> dict:
    async def run() -> dict:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            return await JetStreamApi(nc).request(subject, payload)
        finally:
            await nc.close()
    return asyncio.run(run())


def edit_stream(url: str, name: str, **fields) -> None:
    """Another client changes a stream (as `nats stream edit` does)."""
    config = request(url, f"STREAM.INFO.{name}")["config"]
    request(url, f"STREAM.UPDATE.{name}", {**config, **fields})


def consumer_names(url: str, stream: str) -> list[str]:
    return sorted(c["name"] for c in request(url, f"CONSUMER.LIST.{stream}")["consumers"])


async def clients_consumers(js) -> None:
    """The consumers applications make in ORDERS: nats-py's ephemeral push, ordered push and ephemeral
    pull, and an ordered pull consumer as nats.go's OrderedConsumer creates it (named by the client,
    no durable name, memory storage, inactive_threshold 5m)."""
    await js.subscribe("orders.>")
    await js.subscribe("orders.>", ordered_consumer=True)
    # no fetch is pending during the test: an inactive_threshold of its own keeps it until the end
    await js.pull_subscribe("orders.>", config=ConsumerConfig(inactive_threshold=300.0))
    await js.add_consumer("ORDERS", ConsumerConfig(name="ORDERED_pull_1", ack_policy=AckPolicy.NONE, max_deliver=1,
                                                   mem_storage=True, num_replicas=1, inactive_threshold=300.0))


def test_clients_consumers_and_other_streams_leave_a_saved_plan_valid(js_account, tmp_path):
    files = write_manifests(tmp_path, [ORDERS], [PROCESS])
    url = ["--server", js_account]
    assert run_jsctl("apply", "--yes", *files, *url, cwd=tmp_path).returncode == 0

    async def scenario() -> dict[str, object]:
        nc = await nats.connect(js_account)
        try:
            js = nc.jetstream()
            leaving = await js.subscribe("orders.>")  # an ephemeral there when the plan is made, gone before apply
            made = await asyncio.to_thread(run_jsctl, "plan", "--out", "plan.json", *files, *url, cwd=tmp_path)
            assert made.returncode == 0, made.stderr
            await leaving.unsubscribe()
            await js.delete_consumer("ORDERS", (await leaving.consumer_info()).name)
            await clients_consumers(js)
            await js.add_stream(name="SCRATCH", subjects=["scratch.>"])  # another team's stream
            ephemeral = [n for n in await asyncio.to_thread(consumer_names, js_account, "ORDERS") if n != "PROCESS"]
            plan = await asyncio.to_thread(run_jsctl, "plan", "-o", "json", *files, *url, cwd=tmp_path)
            check = await asyncio.to_thread(run_jsctl, "check", *files, *url, cwd=tmp_path)
            applied = await asyncio.to_thread(run_jsctl, "apply", "plan.json", *files, *url, cwd=tmp_path)
            return {"ephemeral": ephemeral, "plan": plan, "check": check, "applied": applied,
                    "after": await asyncio.to_thread(consumer_names, js_account, "ORDERS")}
        finally:
            await nc.close()

    seen = asyncio.run(scenario())
    ephemeral = seen["ephemeral"]
    assert len(ephemeral) == 4 and set(ephemeral) <= set(seen["after"]), seen  # all there while apply ran
    applied = seen["applied"]
    assert applied.returncode == 0, applied.stderr
    assert "No changes." in applied.stdout and "stale" not in applied.stderr
    changes = json.loads(seen["plan"].stdout)["changes"]
    assert [(c["address"], c["action"]) for c in changes] == [("stream/SCRATCH", "unmanaged")]
    assert seen["check"].returncode == 0, seen["check"].stdout + seen["check"].stderr
    saved = (tmp_path / "plan.json").read_text()
    assert not [n for n in ephemeral if n in saved + seen["check"].stdout + seen["plan"].stdout]
    assert sorted(json.loads(saved)["basis"]["live"]) == ["consumer/ORDERS/PROCESS", "stream/ORDERS"]


def test_a_declared_stream_changed_by_another_client_refuses_naming_the_field(js_account, tmp_path):
    files = write_manifests(tmp_path, [ORDERS], [PROCESS])
    url = ["--server", js_account]
    assert run_jsctl("apply", "--yes", *files, *url, cwd=tmp_path).returncode == 0
    assert run_jsctl("plan", "--out", "plan.json", *files, *url, cwd=tmp_path).returncode == 0
    edit_stream(js_account, "ORDERS", max_age=DAY)
    refused = run_jsctl("apply", "plan.json", *files, *url, cwd=tmp_path)
    assert refused.returncode == EXIT_REFUSED, refused.stderr
    assert 'live resource stream/ORDERS was changed since the plan: max_age: "7d" -> "1d"' in refused.stderr
    assert "Nothing was applied: run `jsctl plan --out FILE` again" in refused.stderr
    assert request(js_account, "STREAM.INFO.ORDERS")["config"]["max_age"] == DAY  # left as the other client set it


def test_a_stream_prune_would_delete_is_covered_only_by_a_plan_made_with_prune(js_account, tmp_path):
    url = ["--server", js_account, "--owner", "app"]
    old = {"name": "OLD", "subjects": ["old.>"]}
    assert run_jsctl("apply", "--yes", *write_manifests(tmp_path, [ORDERS, old], []), *url,
                     cwd=tmp_path).returncode == 0
    files = write_manifests(tmp_path, [ORDERS], [])  # OLD left the manifests: this project's, so --prune deletes it
    assert run_jsctl("plan", "--out", "prune.json", "--prune", *files, *url, cwd=tmp_path).returncode == 0
    assert run_jsctl("plan", "--out", "keep.json", *files, *url, cwd=tmp_path).returncode == 0
    edit_stream(js_account, "OLD", max_msgs=10)

    kept = run_jsctl("apply", "keep.json", *files, *url, cwd=tmp_path)  # it only notes OLD
    assert kept.returncode == 0, kept.stderr
    refused = run_jsctl("apply", "prune.json", "--allow-destructive", *files, *url, cwd=tmp_path)
    assert refused.returncode == EXIT_REFUSED, refused.stderr
    assert "live resource stream/OLD was changed since the plan: max_msgs: -1 -> 10" in refused.stderr
    assert "OLD" in json.dumps(request(js_account, "STREAM.NAMES"))


def test_a_saved_plan_outlives_a_restart_of_the_server(nats_server_version, tmp_path):
    """2.10 and 2.11 report a consumer's creation time anew after a restart (a fraction of a millisecond
    later): the plan depends on configs, not on that."""
    server = NatsServer(tmp_path / "server", binary=str(server_binary(nats_server_version))).start()
    try:
        files = write_manifests(tmp_path, [ORDERS], [PROCESS])
        url = ["--server", server.url]
        assert run_jsctl("apply", "--yes", *files, *url, cwd=tmp_path).returncode == 0
        assert run_jsctl("plan", "--out", "plan.json", *files, *url, cwd=tmp_path).returncode == 0
        server.stop()
        server.start()
        applied = run_jsctl("apply", "plan.json", *files, *url, cwd=tmp_path)
        assert applied.returncode == 0, applied.stderr
    finally:
        server.stop()
