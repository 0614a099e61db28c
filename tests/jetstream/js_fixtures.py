"""Shared data for the JetStream tests: manifests built from plain dicts, a varied account."""

from __future__ import annotations

from reconciler.manifest.model import CONSUMER, STREAM, DeclaredResource, Desired


def desired_of(streams: list[dict] = (), consumers: list[dict] = ()) -> Desired:
    """A Desired as the manifest loader returns it; consumer dicts carry ``stream``."""
    desired = Desired()
    for config in streams:
        desired.streams[config["name"]] = DeclaredResource(STREAM, config["name"], dict(config))
    for item in consumers:
        config = {k: v for k, v in item.items() if k != "stream"}
        name = config.get("durable_name") or config["name"]
        desired.consumers[(item["stream"], name)] = DeclaredResource(CONSUMER, name, config, stream=item["stream"])
    return desired


S = 1_000_000_000

# A varied account: every kind of stream (limits/interest/workqueue, memory, mirror, sources, KV-like,
# republish, transforms, consumer limits, 2.11/2.12 features) and consumers (pull, push, filters,
# backoff, priority groups, start positions). Written as a user would, omitting defaults.
VARIED_STREAMS = [
    {"name": "ORDERS", "subjects": ["orders.>"], "max_age": 365 * 86400 * S, "duplicate_window": 86400 * S,
     "allow_rollup_hdrs": True, "description": "orders", "metadata": {"team": "payments"}},
    {"name": "WORK", "subjects": ["work.*"], "retention": "workqueue", "storage": "memory", "max_msgs": 1000,
     "discard": "new", "max_msg_size": 65536},
    {"name": "INTEREST", "subjects": ["interest.>"], "retention": "interest", "max_bytes": 10_000_000,
     "compression": "s2", "allow_direct": True},
    {"name": "KV_CFG", "subjects": ["$KV.CFG.>"], "max_msgs_per_subject": 5, "discard": "new",
     "discard_new_per_subject": True, "allow_rollup_hdrs": True, "deny_delete": True, "allow_direct": True},
    {"name": "MIRROR", "mirror": {"name": "ORDERS", "filter_subject": "orders.eu"}, "max_age": 86400 * S},
    {"name": "INTEREST_COPY", "mirror": {"name": "INTEREST"}},  # gets mirror_direct: its origin allows direct
    {"name": "AGG", "sources": [{"name": "INTEREST"}, {"name": "ORDERS", "subject_transforms": [
        {"src": "orders.*", "dest": "agg.{{wildcard(1)}}"}]}]},
    {"name": "REPUB", "subjects": ["repub.>"], "republish": {"dest": "out.>", "headers_only": True},
     "subject_transform": {"src": "repub.>", "dest": "repub.t.>"}, "first_seq": 100},
    {"name": "LIMITED", "subjects": ["limited.>"], "consumer_limits": {"max_ack_pending": 50,
                                                                        "inactive_threshold": 3600 * S},
     "max_consumers": 10, "sealed": False},
    {"name": "TTL", "subjects": ["ttl.>"], "allow_msg_ttl": True, "subject_delete_marker_ttl": 60 * S,
     "max_age": 60 * S},
    {"name": "FEATURES", "subjects": ["feat.>"], "allow_atomic": True, "allow_msg_schedules": True},
    {"name": "ASYNC", "subjects": ["async.>"],
     "persist_mode": "async"},
    {"name": "COUNTER", "subjects": ["count.>"], "allow_msg_counter": True},
]
VARIED_CONSUMERS = [
    {"stream": "ORDERS", "durable_name": "GRP_MAKER", "filter_subject": "orders.maker", "ack_policy": "explicit",
     "max_ack_pending": 100},
    {"stream": "ORDERS", "durable_name": "MULTI", "filter_subjects": ["orders.b", "orders.a"],
     "ack_policy": "explicit", "backoff": [S, 5 * S, 30 * S], "max_deliver": 5, "description": "multi"},
    {"stream": "ORDERS", "durable_name": "PUSH", "deliver_subject": "push.orders", "deliver_group": "workers",
     "ack_policy": "explicit", "idle_heartbeat": 10 * S, "flow_control": True},
    {"stream": "ORDERS", "durable_name": "FROM_SEQ", "deliver_policy": "by_start_sequence", "opt_start_seq": 10,
     "ack_policy": "all", "replay_policy": "original"},
    {"stream": "ORDERS", "durable_name": "FROM_TIME", "deliver_policy": "by_start_time",
     "opt_start_time": "2024-01-01T00:00:00Z", "ack_policy": "none", "headers_only": True},
    {"stream": "WORK", "durable_name": "WORKER", "ack_policy": "explicit", "max_waiting": 64, "max_batch": 100,
     "max_expires": 30 * S, "max_bytes": 1_000_000, "metadata": {"owner": "ops"}},
    {"stream": "LIMITED", "durable_name": "LIM", "ack_policy": "explicit"},
    {"stream": "INTEREST", "durable_name": "PINNED", "ack_policy": "explicit", "priority_groups": ["jobs"],
     "priority_policy": "pinned_client"},
    {"stream": "INTEREST", "durable_name": "OVERFLOW", "ack_policy": "explicit", "priority_groups": ["jobs"],
     "priority_policy": "overflow", "mem_storage": True, "inactive_threshold": 86400 * S},
]
