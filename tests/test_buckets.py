"""The pure mapping between buckets and their backing streams (reconciler/jetstream/buckets.py)."""

from __future__ import annotations

import pytest

from reconciler.jetstream import lock
from reconciler.jetstream.buckets import (
    KV,
    OBJ,
    backing_stream_name,
    bucket_field,
    bucket_of,
    same_bucket,
    stream_config,
    stream_differences,
)
from reconciler.manifest.kvnames import RESERVED_BUCKETS, bucket_name_problem, key_problem

S = 1_000_000_000
V210, V212 = (2, 10, 26), (2, 12, 8)


def test_kv_stream_config_follows_adr8():
    config = stream_config(KV, {"bucket": "CONFIG", "history": 5, "ttl": 60 * S, "max_value_size": 1024,
                                "max_bytes": 1 << 20, "description": "flags"}, V212)
    assert config == {
        "name": "KV_CONFIG", "subjects": ["$KV.CONFIG.>"], "retention": "limits", "discard": "new",
        "deny_delete": True, "allow_rollup_hdrs": True, "allow_direct": True, "max_msgs_per_subject": 5,
        "duplicate_window": 60 * S, "max_age": 60 * S, "max_msg_size": 1024, "max_bytes": 1 << 20,
        "max_msgs": -1, "max_consumers": -1, "storage": "file", "num_replicas": 1, "compression": "none",
        "description": "flags",
    }


def test_kv_duplicate_window_is_two_minutes_at_most():
    assert stream_config(KV, {"bucket": "B"}, V212)["duplicate_window"] == 120 * S
    assert stream_config(KV, {"bucket": "B", "ttl": 3600 * S}, V212)["duplicate_window"] == 120 * S
    assert stream_config(KV, {"bucket": "B", "ttl": 5 * S}, V212)["duplicate_window"] == 5 * S


def test_kv_mirror_and_sources_are_translated_as_nats_go_does():
    mirror = stream_config(KV, {"bucket": "M", "mirror": "A"}, V212)
    assert mirror["mirror"] == {"name": "KV_A"} and mirror["mirror_direct"] is True and "subjects" not in mirror
    sourced = stream_config(KV, {"bucket": "S", "sources": ["A", "B"]}, V212)
    assert sourced["subjects"] == ["$KV.S.>"]
    assert sourced["sources"] == [
        {"name": "KV_A", "subject_transforms": [{"src": "$KV.A.>", "dest": "$KV.S.>"}]},
        {"name": "KV_B", "subject_transforms": [{"src": "$KV.B.>", "dest": "$KV.S.>"}]}]


def test_object_store_sources_move_chunks_and_metadata_to_the_store_one_transform_per_subject():
    sourced = stream_config(OBJ, {"bucket": "B", "sources": ["A"]}, V212)
    assert sourced["subjects"] == ["$O.B.C.>", "$O.B.M.>"]
    assert sourced["sources"] == [{"name": "OBJ_A", "subject_transforms": [
        {"src": "$O.A.C.>", "dest": "$O.B.C.>"}, {"src": "$O.A.M.>", "dest": "$O.B.M.>"}]}]


def test_limit_marker_ttl_turns_on_message_ttl_where_the_server_has_it():
    spec = {"bucket": "B", "limit_marker_ttl": 10 * S}
    assert stream_config(KV, spec, V212)["subject_delete_marker_ttl"] == 10 * S
    assert stream_config(KV, spec, V212)["allow_msg_ttl"] is True
    assert "allow_msg_ttl" not in stream_config(KV, {"bucket": "B"}, V212)


def test_object_store_stream_config_follows_adr20():
    config = stream_config(OBJ, {"bucket": "ART", "ttl": 30 * 86400 * S, "compression": "s2", "replicas": 3}, V212)
    assert config["name"] == "OBJ_ART" and config["subjects"] == ["$O.ART.C.>", "$O.ART.M.>"]
    assert config["discard"] == "new" and config["allow_rollup_hdrs"] and config["allow_direct"]
    assert config["compression"] == "s2" and config["num_replicas"] == 3 and "deny_delete" not in config
    assert "duplicate_window" not in config  # the clients leave it to the server


def test_compression_true_means_s2():
    assert stream_config(KV, {"bucket": "B", "compression": True}, V212)["compression"] == "s2"
    assert stream_config(KV, {"bucket": "B", "compression": False}, V212)["compression"] == "none"


SPECS = [
    (KV, {"bucket": "plain"}),
    (KV, {"bucket": "full", "description": "d", "history": 64, "ttl": 3600 * S, "max_value_size": 1024,
          "max_bytes": 1 << 30, "storage": "memory", "replicas": 3, "compression": "s2",
          "placement": {"cluster": "c1", "tags": ["a"]}, "republish": {"src": ">", "dest": "re.>"},
          "limit_marker_ttl": 10 * S, "metadata": {"team": "x"}}),
    (KV, {"bucket": "mirror", "mirror": "full"}),
    (KV, {"bucket": "sourced", "sources": ["a", "b"], "ttl": 1 * S}),
    (OBJ, {"bucket": "plain"}),
    (OBJ, {"bucket": "full", "description": "d", "ttl": 86400 * S, "max_bytes": 1 << 30, "storage": "memory",
           "replicas": 3, "compression": "s2", "placement": {"tags": ["t"]}, "metadata": {"a": "b"}}),
    (OBJ, {"bucket": "sourced", "sources": ["plain", "full"], "ttl": 60 * S}),
]


@pytest.mark.parametrize(("kind", "spec"), SPECS, ids=[f"{kind}-{spec['bucket']}" for kind, spec in SPECS])
def test_a_declared_bucket_reads_back_as_its_spec(kind, spec):
    config = stream_config(kind, spec, V212)
    assert bucket_of(config) == (kind, spec["bucket"], spec)
    assert same_bucket(kind, spec, config, V212)


def test_client_variances_are_no_difference():
    spec = {"bucket": "B", "history": 3}
    made_by_nats_py = {**stream_config(KV, spec, V212), "allow_direct": False, "allow_msg_ttl": True,
                       "deny_purge": False, "metadata": {"_nats.req.level": "1", "_nats.ver": "2.12.8"}}
    assert same_bucket(KV, spec, made_by_nats_py, V212)
    assert bucket_of(made_by_nats_py) == (KV, "B", spec)
    natscli_on_210 = {**stream_config(OBJ, {"bucket": "O"}, V210), "placement": {}}
    assert same_bucket(OBJ, {"bucket": "O"}, natscli_on_210, V210)


def test_declared_client_variances_count():
    live = {**stream_config(KV, {"bucket": "B"}, V212), "allow_direct": False}
    assert not same_bucket(KV, {"bucket": "B", "allow_direct": True}, live, V212)
    with_markers = stream_config(KV, {"bucket": "B", "limit_marker_ttl": 5 * S}, V212)
    assert [change.path for change in stream_differences(KV, {"bucket": "B"}, with_markers, V212)] == \
        ["subject_delete_marker_ttl"]


def test_differences_are_stream_fields_named_as_bucket_fields():
    live = stream_config(KV, {"bucket": "B", "history": 2, "ttl": 60 * S}, V212)
    changes = stream_differences(KV, {"bucket": "B", "history": 5, "ttl": 90 * S}, live, V212)
    assert {(change.path, change.before, change.after) for change in changes} == {
        ("max_msgs_per_subject", 2, 5), ("max_age", 60 * S, 90 * S), ("duplicate_window", 60 * S, 90 * S)}
    assert {bucket_field(change.path) for change in changes} == {"history", "ttl"}
    assert bucket_field("placement.cluster") == "placement.cluster" and bucket_field("discard") == "discard"


def test_ownership_marks_are_no_bucket_setting():
    live = {**stream_config(KV, {"bucket": "B"}, V212), "metadata": {"io.jsctl.owner": "x"}}
    assert same_bucket(KV, {"bucket": "B"}, live, V212)
    assert bucket_of(live) == (KV, "B", {"bucket": "B"})


@pytest.mark.parametrize("config", [
    {"name": "ORDERS", "subjects": ["orders.>"]},
    {"name": "KV_", "max_msgs_per_subject": 1},
    {"name": "KV_a.b", "max_msgs_per_subject": 1},
    {"name": "KV_B", "subjects": ["$KV.B.>"], "max_msgs_per_subject": -1},  # nats.go: not a bucket
], ids=["no-prefix", "empty", "bad-name", "no-history"])
def test_streams_that_are_no_bucket(config):
    assert bucket_of(config) is None


def test_buckets_no_manifest_can_declare_stay_streams():
    old_client = {**stream_config(KV, {"bucket": "B"}, V212), "discard": "old"}
    assert bucket_of(old_client) is None
    custom_transform = stream_config(KV, {"bucket": "S", "sources": ["A"]}, V212)
    custom_transform["sources"][0]["subject_transforms"][0]["dest"] = "$KV.S.a.>"
    assert bucket_of(custom_transform) is None
    raw_source = {**stream_config(KV, {"bucket": "S"}, V212), "sources": [{"name": "ORDERS"}]}
    assert bucket_of(raw_source) is None
    object_mirror = {**stream_config(OBJ, {"bucket": "O"}, V212), "mirror": {"name": "OBJ_P"}}
    assert bucket_of(object_mirror) is None
    kv_into_store = stream_config(OBJ, {"bucket": "O", "sources": ["P"]}, V212)
    kv_into_store["sources"][0]["name"] = "KV_P"
    assert bucket_of(kv_into_store) is None
    one_transform = stream_config(OBJ, {"bucket": "O", "sources": ["P"]}, V212)
    one_transform["sources"][0]["subject_transforms"] = [{"src": "$O.P.>", "dest": "$O.O.>"}]
    assert bucket_of(one_transform) is None
    long_history = {**stream_config(KV, {"bucket": "B"}, V212), "max_msgs_per_subject": 65}
    assert bucket_of(long_history) is None
    twice = stream_config(KV, {"bucket": "S", "sources": ["A"]}, V212)
    twice["sources"] *= 2
    assert bucket_of(twice) is None


def test_backing_stream_names():
    assert backing_stream_name(KV, "b") == "KV_b" and backing_stream_name(OBJ, "b") == "OBJ_b"


@pytest.mark.parametrize(("name", "fine"), [
    ("CONFIG", True), ("a-b_c", True), ("", False), ("a.b", False), ("a b", False), ("é", False),
    ("x" * 251, True), ("x" * 252, False), ("jsctl_locks", False)])
def test_bucket_names(name, fine):
    assert (bucket_name_problem(name) is None) == fine


def test_jsctl_lock_bucket_is_reserved():
    assert lock.LOCK_BUCKET in RESERVED_BUCKETS


@pytest.mark.parametrize(("key", "fine"), [
    ("feature.checkout", True), ("a/b", True), ("a=b-c_d", True), ("", False), (".a", False), ("a.", False),
    ("a..b", False), ("a b", False), ("a*", False), ("a>", False), ("ü", False)])
def test_keys(key, fine):
    assert (key_problem(key) is None) == fine


def test_limit_marker_ttl_is_a_plan_error_before_2_11():
    from reconciler.jetstream.capabilities import unsupported

    spec = {"bucket": "B", "limit_marker_ttl": 10 * S}
    assert unsupported(KV, spec, V210) == [
        "field limit_marker_ttl needs nats-server 2.11.0 or newer (connected server: 2.10.26)"]
    assert unsupported(KV, spec, (2, 11, 0)) == []


def test_the_schema_caps_history_as_bucket_of_does():
    from reconciler.manifest.kvnames import MAX_HISTORY
    from reconciler.manifest.schema import manifest_schema

    assert manifest_schema()["$defs"]["kv"]["properties"]["history"]["maximum"] == MAX_HISTORY
