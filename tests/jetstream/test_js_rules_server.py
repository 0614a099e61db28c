"""Each row of replace_rules.py against the real nats-server: what it refuses in place, jsctl plans as replace.

For every case the live resource is created from ``base``, then the server is asked to update it to
``base + change``: the server's answer (refused or accepted) must match the planner's (replace or update).
"""

from __future__ import annotations

import pytest

from reconciler.jetstream.capabilities import parse_version
from reconciler.jetstream.client import ApiError
from reconciler.jetstream.normalize import normalize
from reconciler.jetstream.replace_rules import REPLACE_RULES, replace_reasons
from reconciler.manifest.model import CONSUMER, STREAM

S = 1_000_000_000
E = {"ack_policy": "explicit"}

# (id, kind, base config, change, refused in place by 2.12.8)
CASES = [
    ("storage", STREAM, {}, {"storage": "memory"}, True),
    ("retention-to-workqueue", STREAM, {}, {"retention": "workqueue"}, True),
    ("retention-from-workqueue", STREAM, {"retention": "workqueue"}, {"retention": "limits"}, True),
    ("retention-limits-to-interest", STREAM, {}, {"retention": "interest"}, False),
    ("deny_delete-off", STREAM, {"deny_delete": True}, {"deny_delete": False}, True),
    ("deny_delete-on", STREAM, {}, {"deny_delete": True}, False),
    ("deny_purge-off", STREAM, {"deny_purge": True}, {"deny_purge": False}, True),
    ("sealed-on", STREAM, {}, {"sealed": True}, False),
    ("sealed-off", STREAM, {"sealed": True}, {"sealed": False}, True),
    ("allow_msg_ttl-off", STREAM, {"allow_msg_ttl": True}, {"allow_msg_ttl": False}, True),
    ("allow_msg_ttl-on", STREAM, {}, {"allow_msg_ttl": True}, False),
    ("allow_msg_schedules-off", STREAM, {"allow_msg_schedules": True}, {"allow_msg_schedules": False}, True),
    ("allow_msg_counter-on", STREAM, {}, {"allow_msg_counter": True}, True),
    ("allow_msg_counter-off", STREAM, {"allow_msg_counter": True}, {"allow_msg_counter": False}, True),
    ("persist_mode", STREAM, {}, {"persist_mode": "async"}, True),
    ("mirror", STREAM, {"mirror": {"name": "ORIGIN"}}, {"mirror": {"name": "ORIGIN", "filter_subject": "origin.a"}},
     True),
    ("max_consumers-since-2.12.5", STREAM, {}, {"max_consumers": 5}, False),
    ("compression", STREAM, {}, {"compression": "s2"}, False),
    ("mirror-promoted", STREAM, {"mirror": {"name": "ORIGIN"}}, {"mirror": None}, False),
    ("deliver_policy", CONSUMER, E, {"deliver_policy": "new"}, True),
    ("opt_start_seq", CONSUMER, {**E, "deliver_policy": "by_start_sequence", "opt_start_seq": 3},
     {"opt_start_seq": 4}, True),
    ("opt_start_time", CONSUMER, {**E, "deliver_policy": "by_start_time", "opt_start_time": "2020-01-01T00:00:00Z"},
     {"opt_start_time": "2021-01-01T00:00:00Z"}, True),
    ("ack_policy", CONSUMER, E, {"ack_policy": "all"}, True),
    ("replay_policy", CONSUMER, E, {"replay_policy": "original"}, True),
    ("pull-to-push", CONSUMER, E, {"deliver_subject": "push.x"}, True),
    ("push-to-pull", CONSUMER, {**E, "deliver_subject": "push.y"}, {"deliver_subject": None}, True),
    ("push-subject", CONSUMER, {**E, "deliver_subject": "push.z"}, {"deliver_subject": "push.w"}, False),
    ("max_waiting", CONSUMER, E, {"max_waiting": 10}, True),
    ("idle_heartbeat", CONSUMER, {**E, "deliver_subject": "push.h"}, {"idle_heartbeat": 5 * S}, True),
    ("flow_control", CONSUMER, {**E, "deliver_subject": "push.f", "idle_heartbeat": 5 * S}, {"flow_control": True},
     True),
    ("mem_storage-before-2.14", CONSUMER, E, {"mem_storage": True}, False),
    ("consumer-limits-fields", CONSUMER, E, {"max_ack_pending": 5, "ack_wait": S, "filter_subject": "rules.a"}, False),
]


def test_every_replace_rule_has_a_server_case():
    # max_consumers (before 2.12.5) and mem_storage (from 2.14) differ from 2.12.8: tests/matrix covers them.
    covered = {next(iter(change)) for _, _, _, change, refused in CASES if refused} | {"max_consumers", "mem_storage"}
    assert {rule.field for rule in REPLACE_RULES} <= covered


async def _attempt(api, kind: str, base: dict, change: dict) -> tuple[bool, dict, dict, str]:
    """Create from ``base``, try the in-place update; (refused?, live config before, desired, version)."""
    version = (await api.identity()).version
    desired = {k: v for k, v in {**base, **change}.items() if v is not None}
    if kind == STREAM:
        if "mirror" in base:
            await api.request("STREAM.CREATE.ORIGIN", {"name": "ORIGIN", "subjects": ["origin.>"]})
        config = {"name": "RULES", **({} if "mirror" in base else {"subjects": ["rules.>"]})}
        unsealed = {k: v for k, v in base.items() if k != "sealed"}
        live = (await api.request("STREAM.CREATE.RULES", {**config, **unsealed}))["config"]
        if base.get("sealed"):  # a stream can only be sealed by an update
            live = (await api.request("STREAM.UPDATE.RULES", {**config, **base}))["config"]
        attempt = ("STREAM.UPDATE.RULES", {**config, **desired})
        desired = {**config, **desired}
    else:
        await api.request("STREAM.CREATE.RULES", {"name": "RULES", "subjects": ["rules.>"]})
        reply = await api.request("CONSUMER.CREATE.RULES.C", {"stream_name": "RULES",
                                                              "config": {"durable_name": "C", **base}})
        live = reply["config"]
        desired = {"durable_name": "C", **desired}
        attempt = ("CONSUMER.CREATE.RULES.C", {"stream_name": "RULES", "config": desired, "action": "update"})
    try:
        await api.request(*attempt)
    except ApiError:
        return True, live, desired, version
    return False, live, desired, version


@pytest.mark.parametrize(("kind", "base", "change", "refused"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_planner_agrees_with_the_server(run_js, kind, base, change, refused):
    server_refused, live, desired, version = run_js(lambda api: _attempt(api, kind, base, change))
    assert server_refused is refused
    server = parse_version(version)
    stream = {"name": "RULES", "subjects": ["rules.>"]}
    reasons = replace_reasons(kind, normalize(kind, live, server, stream), normalize(kind, desired, server, stream),
                              server)
    assert bool(reasons) is refused, reasons
