"""jsctl plan/apply on every supported server version (tests/matrix/conftest.py), as a user runs it.

- the repo's own manifests apply, and plan is empty afterwards;
- a field the connected version does not know is a plan error (2.10/2.11 would silently drop it);
- server defaults, which differ between versions, cause no false drift: configs written minimal,
  with every default spelled out, or with defaults derived from other fields, all plan empty.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from servers_matrix import matrix_versions, server_binary
from support import REPO, stream_names, write_manifests
from tools.server_versions import (
    CONSUMER_FIELD_PROBES,
    DERIVED_DEFAULT_PROBES,
    ORIGINS,
    STREAM_FIELD_PROBES,
    _apply,
    _fill,
    load,
)

from reconciler.dev.servers import NatsServer
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

SEED = ["-f", str(REPO / "streams.yaml"), "-f", str(REPO / "consumers.yaml")]
INTERNAL = {"direct", "sourcing"}  # consumer fields only servers set
SERVER_OWNED = {"name", "subjects", "metadata", "durable_name"}


def env(url: str) -> dict[str, str]:
    return {"NATS_URL": url}


def test_the_repos_manifests_apply_then_plan_empty(jsctl, js_account, nats_server_version):
    done = jsctl("apply", *SEED, "--yes", env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert f"nats-server {nats_server_version}" in done.stdout and "verified" in done.stdout
    again = jsctl("plan", *SEED, "--detailed-exitcode", env=env(js_account))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout

    async def marks() -> list[dict]:
        nc = await connect_nats(NatsSettings(url=js_account))
        try:
            api = JetStreamApi(nc)
            return [(await api.request(subject))["config"]["metadata"]
                    for subject in ("STREAM.INFO.USER_TXN", "CONSUMER.INFO.USER_TXN.GRP_MAKER")]
        finally:
            await nc.close()

    # Every version keeps the owner (the repo's jsctl.yaml, where jsctl runs) in the metadata as sent.
    for metadata in asyncio.run(marks()):
        assert (metadata["io.jsctl.managed"], metadata["io.jsctl.owner"]) == ("true", "user-txn")


def test_the_seeds_allow_rollup_hdrs_lets_one_publish_purge_user_txn(jsctl, js_account):
    """What docs/manifests.md warns about: with the seed's --allow-rollup, any publisher to the stream
    wipes it with one header (here from the verdict subject, taking the events with it)."""
    assert jsctl("apply", *SEED, "--yes", env=env(js_account)).returncode == 0

    async def scenario() -> dict:
        nc = await connect_nats(NatsSettings(url=js_account))
        try:
            js = nc.jetstream()
            for i in range(3):
                await js.publish("USER_TXN.maker", b"event %d" % i)
            await js.publish("USER_TXN.validator", b"", headers={"Nats-Rollup": "all"})
            return (await JetStreamApi(nc).request("STREAM.INFO.USER_TXN"))["state"]
        finally:
            await nc.close()

    state = asyncio.run(scenario())
    assert (state["messages"], state["first_seq"]) == (1, 4)


def unknown_to(version: str) -> tuple[dict[str, object], dict[str, object]]:
    """The stream and consumer fields ``version`` drops or refuses as unknown (measured), with values."""
    data = load(version)

    def unknown(section: str) -> list[str]:
        return [f for f, o in data[section].items() if o["outcome"] == "dropped"
                or (o["outcome"] == "rejected" and o["error"]["err_code"] == 10025)]

    streams = {f: STREAM_FIELD_PROBES[f] for f in unknown("stream_fields")}
    consumers = {f: CONSUMER_FIELD_PROBES[f] for f in unknown("consumer_fields") if f not in INTERNAL}
    return streams, consumers


def test_fields_the_version_does_not_know_are_plan_errors(jsctl, js_account, nats_server_version, tmp_path):
    stream_fields, consumer_fields = unknown_to(nats_server_version)
    streams = [{"name": "BASE", "subjects": ["base.>"]}]
    for i, (field, (value, extra)) in enumerate(sorted(stream_fields.items())):
        names = {"S": f"F{i}"}
        streams.append(_fill(_apply({"name": f"F{i}", "subjects": [f"F{i}.>"]}, {**extra, field: value}), names))
    consumers = [{"stream": "BASE", **_fill(_apply({"durable_name": f"C{i}", "ack_policy": "explicit"},
                                                   {**extra, field: value}), {"S": "base", "C": f"C{i}"})}
                 for i, (field, (value, extra)) in enumerate(sorted(consumer_fields.items()))]
    files = write_manifests(tmp_path, streams, consumers)
    plan = jsctl("plan", *files, env=env(js_account))
    if not stream_fields and not consumer_fields:
        assert plan.returncode == 0, plan.stderr  # this version knows every field
        return
    assert plan.returncode == 1 and "Traceback" not in plan.stderr, plan.stderr
    for field in [*stream_fields, *consumer_fields]:
        assert f"field {field} needs nats-server" in plan.stderr, (field, plan.stderr)
    assert f"(connected server: {nats_server_version})" in plan.stderr
    refused = jsctl("apply", *files, "--yes", env=env(js_account))
    assert refused.returncode == 1 and stream_names(js_account) == []  # nothing sent, nothing half-done


def test_server_defaults_cause_no_false_drift(jsctl, js_account, nats_server_version, tmp_path):
    """Written minimal, or with every default of this version spelled out (as the seed does)."""
    data = load(nats_server_version)
    spelled_out = {k: v for k, v in data["stream_defaults"].items() if k not in SERVER_OWNED}
    streams = [{"name": "MINIMAL", "subjects": ["minimal.>"]},
               {"name": "EXPLICIT", "subjects": ["explicit.>"], **spelled_out}]
    consumers = [
        {"stream": "MINIMAL", "durable_name": "PULL", "ack_policy": "explicit"},
        {"stream": "MINIMAL", "durable_name": "PUSH", "deliver_subject": "push.minimal"},
        {"stream": "EXPLICIT", "durable_name": "PULL",
         **{k: v for k, v in data["consumer_defaults"]["pull"].items() if k not in SERVER_OWNED}},
        {"stream": "EXPLICIT", "durable_name": "PUSH",
         **{k: v for k, v in data["consumer_defaults"]["push"].items() if k not in SERVER_OWNED}},
    ]
    files = write_manifests(tmp_path, streams, consumers)
    done = jsctl("apply", *files, "--yes", env=env(js_account))
    assert done.returncode == 0, done.stdout + done.stderr
    again = jsctl("plan", *files, "--detailed-exitcode", env=env(js_account))
    assert again.returncode == 0, again.stdout + again.stderr


def test_defaults_derived_from_other_fields_cause_no_false_drift(js_account, tmp_path):
    """Each case of DERIVED_DEFAULT_PROBES (e.g. duplicate_window from max_age, a consumer's
    max_ack_pending from its stream's consumer_limits) planned, applied, planned again."""
    from reconciler.jetstream.session import JetStreamSession
    from reconciler.manifest import load_desired

    streams, consumers = [*ORIGINS], []
    for i, (case, (overrides, consumer)) in enumerate(DERIVED_DEFAULT_PROBES.items()):
        names = {"S": f"D{i}", "C": case.upper()}
        streams.append(_fill(_apply({"name": f"D{i}", "subjects": [f"D{i}.>"]}, overrides), names))
        if consumer is not None:
            consumers.append({"stream": f"D{i}", **_fill(consumer, names)})
    write_manifests(tmp_path, streams, consumers)
    desired = load_desired([tmp_path])

    async def plan_apply_plan():
        async with JetStreamSession(NatsSettings(url=js_account)) as session:
            first = await session.plan(desired)
            assert not first.errors
            await session.apply(desired, first.pending)  # verifies what the server stored
            return await session.plan(desired)

    again = asyncio.run(plan_apply_plan())
    assert {c.address: [(d.path, d.before, d.after) for d in c.diff] for c in again.changes} == {}


def test_a_stream_a_newer_server_made_is_offline_after_a_downgrade_never_recreated(jsctl, tmp_path):
    """2.14 stores allow_batched; 2.12 on the same store lists the stream as offline (with why)."""
    if not {"2.14.6", "2.12.8"} <= set(matrix_versions()):
        pytest.skip("2.14.6 and 2.12.8 are not in this run's matrix")
    newer = NatsServer(tmp_path / "server", binary=str(server_binary("2.14.6")), server_name="downgrade").start()
    try:
        async def create() -> None:
            nc = await connect_nats(NatsSettings(url=newer.url))
            try:
                await JetStreamApi(nc).request("STREAM.CREATE.BATCHED", {"name": "BATCHED", "subjects": ["b.>"],
                                                                         "allow_batched": True})
            finally:
                await nc.close()

        asyncio.run(create())
    finally:
        newer.stop()
    older = NatsServer(tmp_path / "server", port=newer.port, monitor_port=newer.monitor_port,
                       binary=str(server_binary("2.12.8")), server_name="downgrade").start()
    try:
        files = write_manifests(tmp_path / "manifests", [{"name": "BATCHED", "subjects": ["b.>"]}], [])
        plan = jsctl("plan", *files, "--detailed-exitcode", "-o", "json", env=env(older.url))
        assert plan.returncode == 0, plan.stdout + plan.stderr
        [change] = json.loads(plan.stdout)["changes"]
        assert change["address"] == "stream/BATCHED" and change["action"] == "offline"
        assert 'unknown field "allow_batched"' in change["reason"]
    finally:
        older.stop()
