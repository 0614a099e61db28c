"""The repo's own streams.yaml/consumers.yaml are exactly the seed's `nats stream add`/`nats consumer add`."""

from __future__ import annotations

import asyncio

from support import REPO

from reconciler.manifest import load_desired

NS_PER_DAY = 24 * 3600 * 10**9

# What natscli sends ($JS.API.STREAM.CREATE.USER_TXN) for the seed's line
#   nats stream add USER_TXN --subjects "USER_TXN.*" --ack --max-msgs=-1 --max-bytes=-1 --max-age=1y
#     --storage file --retention limits --max-msg-size=-1 --discard=old --max-msgs-per-subject=-1
#     --dupe-window=1d --allow-rollup --no-deny-delete --no-deny-purge --replicas=1
# natscli's streamCmd.prepareConfig marshalled through jsm.go's api.StreamConfig (omitempty fields left out);
# --max-consumers defaults to -1 and --allow-direct to true.
NATSCLI_STREAM = {
    "name": "USER_TXN", "subjects": ["USER_TXN.*"], "retention": "limits", "max_consumers": -1,
    "max_msgs_per_subject": -1, "max_msgs": -1, "max_bytes": -1, "max_age": 365 * NS_PER_DAY, "max_msg_size": -1,
    "storage": "file", "discard": "old", "num_replicas": 1, "duplicate_window": NS_PER_DAY, "sealed": False,
    "deny_delete": False, "deny_purge": False, "allow_rollup_hdrs": True, "allow_direct": True,
    "mirror_direct": False,
}


def natscli_consumer(name: str, filter_subject: str) -> dict:
    """`nats consumer add USER_TXN NAME --filter F --ack explicit --pull --deliver all --max-deliver=-1
    --replay=instant --max-pending=100 --no-headers-only` (headers_only false is omitted by jsm.go)."""
    return {"durable_name": name, "deliver_policy": "all", "ack_policy": "explicit", "max_deliver": -1,
            "filter_subject": filter_subject, "replay_policy": "instant", "max_ack_pending": 100, "num_replicas": 0}


CONSUMERS = {"GRP_MAKER": "USER_TXN.maker", "GRP_VALIDATOR": "USER_TXN.validator"}


def declared():
    return load_desired([REPO / "streams.yaml", REPO / "consumers.yaml"])


def test_the_manifests_declare_every_flag_of_the_seed():
    desired = declared()
    assert list(desired.streams) == ["USER_TXN"]
    assert desired.streams["USER_TXN"].config == {
        "name": "USER_TXN", "subjects": ["USER_TXN.*"], "no_ack": False, "max_msgs": -1, "max_bytes": -1,
        "max_age": 365 * NS_PER_DAY, "storage": "file", "retention": "limits", "max_msg_size": -1, "discard": "old",
        "max_msgs_per_subject": -1, "duplicate_window": NS_PER_DAY, "allow_rollup_hdrs": True, "deny_delete": False,
        "deny_purge": False, "num_replicas": 1, "max_consumers": -1, "allow_direct": True}
    assert sorted(desired.consumers) == [("USER_TXN", "GRP_MAKER"), ("USER_TXN", "GRP_VALIDATOR")]
    for name, filter_subject in CONSUMERS.items():
        assert desired.consumers[("USER_TXN", name)].config == {
            "durable_name": name, "filter_subject": filter_subject, "ack_policy": "explicit", "deliver_policy": "all",
            "max_deliver": -1, "replay_policy": "instant", "max_ack_pending": 100, "headers_only": False}


def go_zero(value):
    """What a field the server leaves out of its JSON (Go's omitempty) stands for."""
    return type(value)()


def test_natscli_and_the_manifests_make_the_same_resources(js_account):
    stored_stream, stored_consumers = asyncio.run(create_like_natscli(js_account))
    desired = declared()
    for field, value in desired.streams["USER_TXN"].config.items():
        assert stored_stream.get(field, go_zero(value)) == value, field
    for name in CONSUMERS:
        for field, value in desired.consumers[("USER_TXN", name)].config.items():
            assert stored_consumers[name].get(field, go_zero(value)) == value, (name, field)


async def create_like_natscli(url: str) -> tuple[dict, dict[str, dict]]:
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.settings import NatsSettings

    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        stream = (await api.request("STREAM.CREATE.USER_TXN", NATSCLI_STREAM))["config"]
        consumers = {}
        for name, filter_subject in CONSUMERS.items():
            reply = await api.request(f"CONSUMER.CREATE.USER_TXN.{name}.{filter_subject}",
                                      {"stream_name": "USER_TXN", "config": natscli_consumer(name, filter_subject)})
            consumers[name] = reply["config"]
        return stream, consumers
    finally:
        await nc.close()


def test_configs_pasted_from_the_server_validate(js_account, tmp_path):
    """`nats stream info --json` / `nats consumer info --json` .config pasted as items (plus `stream:`)."""
    import json

    stream, consumers = asyncio.run(create_like_natscli(js_account))
    assert any(key.startswith("_nats.") for key in stream.get("metadata", {}))  # 2.11+ servers add these
    pasted = [{**config, "stream": "USER_TXN"} for config in consumers.values()]
    # JSON is YAML: paste the server's JSON as it comes.
    (tmp_path / "streams.yaml").write_text("streams:\n  - " + json.dumps(stream) + "\n")
    (tmp_path / "consumers.yaml").write_text("consumers: " + json.dumps(pasted) + "\n")
    desired = load_desired([tmp_path / "streams.yaml", tmp_path / "consumers.yaml"])
    assert desired.streams["USER_TXN"].config == without_server_metadata(stream)
    for name, config in consumers.items():
        assert desired.consumers[("USER_TXN", name)].config == without_server_metadata(config)


def without_server_metadata(config: dict) -> dict:
    """The config without `metadata` (the server's `_nats.*` keys are all it holds here)."""
    assert all(key.startswith("_nats.") for key in config.get("metadata", {}))
    return {key: value for key, value in config.items() if key != "metadata"}


def test_plan_sees_nothing_to_change_after_natscli(js_account, jsctl):
    """What the seed's natscli commands made is exactly what the manifests declare, defaults included:
    the plan only adopts the three resources (jsctl's ownership marks in their metadata, not a field change)."""
    import json

    asyncio.run(create_like_natscli(js_account))
    result = jsctl("plan", "-s", js_account, "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert sorted(change["address"] for change in changes) == [
        "consumer/USER_TXN/GRP_MAKER", "consumer/USER_TXN/GRP_VALIDATOR", "stream/USER_TXN"]
    for change in changes:
        assert change["action"] == "adopt", change
        assert change["diff"] == [] and change["desired"]["metadata"]["io.jsctl.owner"] == "user-txn", change
