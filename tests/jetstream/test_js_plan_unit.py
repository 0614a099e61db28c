"""Pure planning: normalization, diff, replace rules, ownership, rendering. No servers."""

from __future__ import annotations

import json

import pytest

from reconciler.jetstream.basis import covered
from reconciler.jetstream.capabilities import parse_version, unsupported
from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.normalize import normalize
from reconciler.jetstream.observe import Live
from reconciler.jetstream.ownership import KIND_KEY, MANAGED_KEY, OWNER_KEY, Ownership
from reconciler.jetstream.plan import plan_jetstream
from reconciler.jetstream.replace_rules import replace_reasons
from reconciler.jetstream.verify import describe_leftover
from reconciler.manifest.model import CONSUMER, STREAM
from reconciler.plan.model import Change, FieldChange
from reconciler.plan.render.json import render_json
from reconciler.plan.render.markdown import render_markdown
from reconciler.plan.render.text import render_text

S = 1_000_000_000
V2128 = (2, 12, 8)

# What nats-server 2.12.8 returned for {"name": "ORDERS", "subjects": ["orders.>"]} (measured).
LIVE_ORDERS = {
    "name": "ORDERS", "subjects": ["orders.>"], "retention": "limits", "max_consumers": -1, "max_msgs": -1,
    "max_bytes": -1, "max_age": 0, "max_msgs_per_subject": -1, "max_msg_size": -1, "discard": "old",
    "storage": "file", "num_replicas": 1, "duplicate_window": 120 * S, "compression": "none",
    "allow_direct": False, "mirror_direct": False, "sealed": False, "deny_delete": False, "deny_purge": False,
    "allow_rollup_hdrs": False, "consumer_limits": {}, "allow_msg_ttl": False,
    "metadata": {"_nats.level": "3", "_nats.req.level": "0", "_nats.ver": "2.12.8", MANAGED_KEY: "true"},
}
LIVE_WORKER = {
    "durable_name": "WORKER", "name": "WORKER", "deliver_policy": "all", "ack_policy": "explicit",
    "ack_wait": 30 * S, "max_deliver": -1, "replay_policy": "instant", "max_waiting": 512,
    "max_ack_pending": 1000, "num_replicas": 0, "metadata": {"_nats.req.level": "0", MANAGED_KEY: "true"},
}


def live_of(streams=(), consumers=(), version="2.12.8") -> Live:
    live = Live(ServerIdentity("n", "id", version, None, 3))
    for config in streams:
        live.streams[config["name"]] = {"config": config, "state": {"messages": 7, "bytes": 700, "consumer_count": 1}}
    for stream, config in consumers:
        live.consumers[(stream, config["name"])] = {"name": config["name"], "config": config, "num_pending": 3,
                                                    "ack_floor": {"stream_seq": 4}}
    return live


def test_omitted_fields_equal_to_defaults_are_no_change(make_desired):
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"]}],
                           [{"stream": "ORDERS", "durable_name": "WORKER", "ack_policy": "explicit"}])
    plan = plan_jetstream(desired, live_of([LIVE_ORDERS], [("ORDERS", LIVE_WORKER)]))
    assert plan.changes == [] and not plan.has_changes


def test_explicit_defaults_zero_spellings_and_set_order_are_no_change(make_desired):
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"], "max_msgs": 0, "max_bytes": -1,
                             "duplicate_window": 120 * S, "deny_delete": False, "metadata": {}}])
    assert plan_jetstream(desired, live_of([LIVE_ORDERS])).changes == []
    two = {**LIVE_ORDERS, "subjects": ["a", "b"]}
    assert normalize(STREAM, {"name": "ORDERS", "subjects": ["b", "a"]}, V2128) == normalize(STREAM, two, V2128)


def test_defaults_the_server_leaves_out_of_info_are_no_change(make_desired):
    """persist_mode: default (2.12+) and priority_policy: none (2.11+) are not in what the server reports."""
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"], "persist_mode": "default"}],
                           [{"stream": "ORDERS", "durable_name": "WORKER", "ack_policy": "explicit",
                             "priority_policy": "none"}])
    assert plan_jetstream(desired, live_of([LIVE_ORDERS], [("ORDERS", LIVE_WORKER)])).changes == []


def test_consumer_limits_fill_consumers_whatever_their_ack_policy():
    stream = {"name": "L", "consumer_limits": {"max_ack_pending": 50, "inactive_threshold": 60 * S}}
    for ack in ("none", "explicit", "all"):
        config = normalize(CONSUMER, {"durable_name": "C", "ack_policy": ack}, V2128, stream)
        assert (config["max_ack_pending"], config["inactive_threshold"]) == (50, 60 * S), ack
    unlimited = normalize(CONSUMER, {"durable_name": "C", "max_ack_pending": -1}, V2128, stream)
    assert unlimited["max_ack_pending"] == -1
    without_limits = normalize(CONSUMER, {"durable_name": "C"}, V2128, {"name": "L"})
    assert "max_ack_pending" not in without_limits and "ack_wait" not in without_limits


def test_a_consumer_limits_change_its_consumers_exceed_is_a_plan_error(make_desired):
    limited = {**LIVE_ORDERS, "consumer_limits": {"max_ack_pending": 1000, "inactive_threshold": 3600 * S}}
    live = live_of([limited], [("ORDERS", {**LIVE_WORKER, "inactive_threshold": 3600 * S})])
    lower = make_desired([{"name": "ORDERS", "subjects": ["orders.>"],
                           "consumer_limits": {"max_ack_pending": 100, "inactive_threshold": 3600 * S}}])
    assert plan_jetstream(lower, live).errors == [
        "stream/ORDERS: nats-server 2.12.8 refuses this consumer_limits change while consumers exceed it: "
        "WORKER (max_ack_pending 1000 > 100). Lower them first (write the values in their manifests and apply), "
        "then change the limits"]
    removed = make_desired([{"name": "ORDERS", "subjects": ["orders.>"]}])
    assert plan_jetstream(removed, live).errors[0].endswith(
        "WORKER (max_ack_pending 1000 > 0, inactive_threshold 1h > 0). Lower them first (write the values in their "
        "manifests and apply), then change the limits; a limit left at 0 counts as 0 before nats-server 2.14.6")
    assert plan_jetstream(removed, live_of([limited], [("ORDERS", LIVE_WORKER)], version="2.14.6")).errors == []


def test_update_lists_each_field_before_and_after(make_desired):
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"], "max_age": 3600 * S,
                             "metadata": {"team": "payments"}}])
    (change,) = plan_jetstream(desired, live_of([LIVE_ORDERS])).changes
    assert change.action == "update" and not change.destructive
    assert change.diff == [FieldChange("max_age", None, 3600 * S), FieldChange("metadata.team", None, "payments")]
    assert change.desired["metadata"] == {"team": "payments", MANAGED_KEY: "true"}


def test_replace_names_the_reason_and_what_it_destroys(make_desired):
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"], "storage": "memory"}],
                           [{"stream": "ORDERS", "durable_name": "WORKER", "ack_policy": "all"}])
    plan = plan_jetstream(desired, live_of([LIVE_ORDERS], [("ORDERS", LIVE_WORKER)]))
    stream, consumer = plan.changes
    assert (stream.action, stream.reason) == ("replace", "the storage type cannot be changed")
    assert stream.details.destroys == {"messages": 7, "bytes": 700, "consumers": ["WORKER"]}
    assert (consumer.action, consumer.reason) == ("create", "stream ORDERS is replaced")


def test_consumer_replace_shows_pending_and_ack_floor(make_desired):
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"]}],
                           [{"stream": "ORDERS", "durable_name": "WORKER", "ack_policy": "all"}])
    (change,) = plan_jetstream(desired, live_of([LIVE_ORDERS], [("ORDERS", LIVE_WORKER)])).changes
    assert change.action == "replace" and change.destructive and change.reason == "ack_policy cannot change"
    assert change.details.destroys["num_pending"] == 3 and change.details.destroys["ack_floor_stream_seq"] == 4


@pytest.mark.parametrize(("kind", "before", "after", "version", "replace"), [
    (STREAM, {"max_consumers": 5}, {"max_consumers": 10}, (2, 12, 4), True),
    (STREAM, {"max_consumers": 5}, {"max_consumers": 10}, (2, 12, 5), False),
    (STREAM, {}, {"allow_msg_ttl": True}, (2, 11, 11), False),
    (STREAM, {"mirror": {"name": "O"}}, {}, (2, 11, 11), True),
    (STREAM, {"mirror": {"name": "O"}}, {}, (2, 12, 0), False),
    (STREAM, {}, {"mirror": {"name": "O"}}, (2, 15, 1), True),
    (CONSUMER, {}, {"mem_storage": True}, (2, 12, 8), False),
    (CONSUMER, {}, {"mem_storage": True}, (2, 14, 0), True),
    (STREAM, {}, {"allow_msg_ttl": True}, V2128, False),
    (STREAM, {"retention": "limits"}, {"retention": "interest"}, V2128, False),
    (STREAM, {"retention": "interest"}, {"retention": "workqueue"}, V2128, True),
    (STREAM, {}, {"deny_delete": True}, V2128, False),
    (CONSUMER, {"deliver_subject": "a"}, {"deliver_subject": "b"}, V2128, False),
    (CONSUMER, {"deliver_subject": "a"}, {}, V2128, True),
])
def test_rules_depend_on_server_version(kind, before, after, version, replace):
    assert bool(replace_reasons(kind, before, after, version)) is replace


def test_unsupported_field_names_field_server_and_first_version(make_desired):
    assert unsupported(STREAM, {"allow_batched": True}, V2128) == [
        "field allow_batched needs nats-server 2.14.0 or newer (connected server: 2.12.8)"]
    assert unsupported(CONSUMER, {"priority_policy": "prioritized"}, (2, 11, 4))
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"], "allow_msg_ttl": True}])
    plan = plan_jetstream(desired, live_of(version="2.10.25"))
    assert plan.errors == ["stream/ORDERS: field allow_msg_ttl needs nats-server 2.11.0 or newer "
                           "(connected server: 2.10.25)"]
    assert parse_version("v2.11.0-beta.2") == (2, 11, 0)


def test_undeclared_resources_are_notes_unless_pruned_and_jsctl_made(make_desired):
    foreign = {**LIVE_ORDERS, "name": "FOREIGN", "metadata": {}}
    ours = {**LIVE_ORDERS, "metadata": {**LIVE_ORDERS["metadata"], OWNER_KEY: "p"}}
    worker = {**LIVE_WORKER, "metadata": {**LIVE_WORKER["metadata"], OWNER_KEY: "p"}}
    live = live_of([ours, foreign], [("ORDERS", worker)])
    notes = plan_jetstream(make_desired(), live).changes
    assert {(c.address, c.action) for c in notes} == {
        ("stream/ORDERS", "unmanaged"), ("stream/FOREIGN", "unmanaged"), ("consumer/ORDERS/WORKER", "unmanaged")}
    assert not plan_jetstream(make_desired(), live).pending
    pruned = plan_jetstream(make_desired(), live, prune=True, ownership=Ownership("p")).changes
    assert {(c.address, c.action) for c in pruned} == {
        ("stream/ORDERS", "delete"), ("stream/FOREIGN", "unmanaged"), ("consumer/ORDERS/WORKER", "delete")}


# A client's ephemeral consumer as every supported version lists it (measured): no durable_name, a name
# the server (or the client library) chose, inactive_threshold set by the server.
LIVE_EPHEMERAL = {"name": "XdDWHCje", "deliver_policy": "all", "ack_policy": "none", "deliver_subject": "_INBOX.x",
                  "inactive_threshold": 5 * S, "mem_storage": True, "flow_control": True, "idle_heartbeat": 5 * S}


def owned(config: dict, owner: str = "p") -> dict:
    return {**config, "metadata": {**config.get("metadata", {}), MANAGED_KEY: "true", OWNER_KEY: owner}}


def test_ephemeral_consumers_are_never_unmanaged_deleted_or_destroyed(make_desired):
    live = live_of([owned(LIVE_ORDERS)], [("ORDERS", owned(LIVE_WORKER)), ("ORDERS", LIVE_EPHEMERAL)])
    orders = {"name": "ORDERS", "subjects": ["orders.>"]}
    plain = plan_jetstream(make_desired([orders]), live, ownership=Ownership("p")).changes
    assert [(c.address, c.action) for c in plain] == [("consumer/ORDERS/WORKER", "unmanaged")]
    pruned = plan_jetstream(make_desired(), live, prune=True, ownership=Ownership("p")).changes
    assert [(c.address, c.action) for c in pruned] == [("stream/ORDERS", "delete"),
                                                        ("consumer/ORDERS/WORKER", "delete")]
    (replace,) = plan_jetstream(make_desired([{**orders, "storage": "memory"}]), live,
                                ownership=Ownership("p")).changes
    assert replace.action == "replace" and replace.details.destroys["consumers"] == ["WORKER"]


def test_a_stream_marked_as_another_kind_is_adopted_as_declared_and_the_name_shown_safely(make_desired):
    orders = {"name": "ORDERS", "subjects": ["orders.>"]}
    marked = owned(LIVE_ORDERS)
    marked["metadata"][KIND_KEY] = "kv\x1b]2;x\x07"  # anyone may write metadata
    (adopt,) = plan_jetstream(make_desired([orders]), live_of([marked]), ownership=Ownership("p")).changes
    assert (adopt.action, adopt.diff) == ("adopt", [])
    assert adopt.reason == ("marked by jsctl as kind kv\\x1b]2;x\\x07, declared as a stream: apply records it as "
                            "declared (metadata only)")
    assert KIND_KEY not in adopt.desired["metadata"]
    (update,) = plan_jetstream(make_desired([{**orders, "max_msgs": 5}]), live_of([marked]),
                               ownership=Ownership("p")).changes
    assert (update.action, update.details.adopts) == ("update", True) and "also records it as a stream" in update.reason


def test_a_saved_plan_covers_what_it_reads_and_would_touch(make_desired):
    """Declared resources (present or not), the streams their defaults come from, what the plan changes
    or deletes (with --prune: what the planner chose, this project's own), the durable consumers of the
    streams it replaces."""
    def stream(name):
        return {**LIVE_ORDERS, "name": name, "subjects": [f"{name.lower()}.>"], "metadata": {}}

    by_hand = {**LIVE_WORKER, "name": "BY_HAND", "durable_name": "BY_HAND", "metadata": {}}
    live = live_of([owned(LIVE_ORDERS), stream("OTHER"), stream("ORIGIN"), stream("SCRATCH"), owned(stream("OLD")),
                    owned(stream("THEIRS"), "q")],
                   [("ORDERS", owned(LIVE_WORKER)), ("ORDERS", LIVE_EPHEMERAL), ("ORDERS", by_hand),
                    ("OLD", owned(LIVE_WORKER)), ("OLD", LIVE_EPHEMERAL), ("SCRATCH", by_hand)])
    streams = [{"name": "ORDERS", "subjects": ["orders.>"]}, {"name": "MIRROR", "mirror": {"name": "ORIGIN"}},
               {"name": "NEW", "subjects": ["new.>"]}]
    consumers = [{"stream": "ORDERS", "durable_name": "WORKER", "ack_policy": "explicit"},
                 {"stream": "OTHER", "durable_name": "MINE", "ack_policy": "explicit"}]
    declared = {"stream/ORDERS", "stream/MIRROR", "stream/NEW", "consumer/ORDERS/WORKER", "consumer/OTHER/MINE",
                "stream/ORIGIN", "stream/OTHER"}

    def scope(streams, prune=False):
        desired = make_desired(streams, consumers)
        return covered(desired, plan_jetstream(desired, live, prune=prune, ownership=Ownership("p")), live)

    assert scope(streams) == declared
    assert scope(streams, prune=True) == declared | {"stream/OLD", "consumer/OLD/WORKER"}
    replaced = [{**streams[0], "storage": "memory"}, *streams[1:]]
    assert scope(replaced) == declared | {"consumer/ORDERS/BY_HAND"}


def test_verify_message_names_the_field_the_server_changed():
    change = Change("consumer/S/C", "update", [FieldChange("ack_wait", 1 * S, 5 * S)])
    assert describe_leftover(change) == ("consumer/S/C: the server did not keep ack_wait "
                                         "(sent 5000000000, stored 1000000000)")


def test_renderers_show_every_change(make_desired):
    desired = make_desired([{"name": "NEW", "subjects": ["new"]}, {"name": "ORDERS", "subjects": ["orders.>"],
                                                                    "storage": "memory"}])
    plan = plan_jetstream(desired, live_of([LIVE_ORDERS]))
    text = render_text(plan)
    assert "  + stream/NEW  create" in text and "-/+ stream/ORDERS  replace" in text
    assert "Plan: 1 to create, 1 to replace." in text
    data = json.loads(render_json(plan))
    assert data["format_version"] == 1
    assert [(c["address"], c["action"], c["destructive"]) for c in data["changes"]] == [
        ("stream/NEW", "create", False), ("stream/ORDERS", "replace", True)]
    assert data["changes"][1]["diff"] == [{"path": "storage", "before": "file", "after": "memory"}]
    markdown = render_markdown(plan)
    assert "| `-/+` | `stream/ORDERS` | replace | the storage type cannot be changed |" in markdown


def test_apply_dependencies_follow_the_documented_order():
    from reconciler.jetstream.execute import ordered_steps

    changes = [Change("consumer/M/C", "create", desired={}), Change("stream/M", "create",
                                                                    desired={"name": "M", "mirror": {"name": "O"}}),
               Change("stream/O", "replace", desired={"name": "O"}), Change("consumer/OLD/X", "delete"),
               Change("stream/OLD", "delete"), Change("kv/CONFIG/a/b", "update", desired={"revision": 3})]
    deletes, writes, entries = ordered_steps(changes)
    assert [(s.verb, s.address, s.subject, s.payload) for s in entries] == [  # last: their buckets exist then
        ("update", "kv/CONFIG/a/b", "$KV.CONFIG.a/b", {"revision": 3})]
    assert {(s.verb, s.address) for s in deletes} == {("delete", "consumer/OLD/X"), ("delete", "stream/OLD"),
                                                      ("delete", "stream/O")}
    after = {(s.verb, s.address): {(d.verb, d.address) for d in s.after} for s in deletes + writes}
    assert after[("delete", "stream/OLD")] == {("delete", "consumer/OLD/X")}
    assert after[("create", "stream/O")] == set()  # its delete is in the first phase
    assert after[("create", "stream/M")] == {("create", "stream/O")}
    assert after[("create", "consumer/M/C")] == {("create", "stream/M")}


def test_export_keeps_only_what_differs_from_defaults_in_readable_units():
    from reconciler.jetstream.export import export_manifests

    live = live_of([{**LIVE_ORDERS, "max_age": 365 * 86400 * S, "duplicate_window": 86400 * S,
                     "max_bytes": 1 << 30, "metadata": {"_nats.ver": "2.12.8", MANAGED_KEY: "true", "team": "x"}}],
                   [("ORDERS", {**LIVE_WORKER, "ack_wait": 90 * S, "backoff": [S, 1500 * 10**6]})])
    exported = export_manifests(live)
    assert exported.streams == [{"name": "ORDERS", "subjects": ["orders.>"], "max_bytes": "1GiB", "max_age": "1y",
                                 "duplicate_window": "1d", "metadata": {"team": "x"}}]
    assert exported.consumers == [{"stream": "ORDERS", "durable_name": "WORKER", "ack_policy": "explicit",
                                   "ack_wait": "90s", "backoff": ["1s", "1500ms"]}]


def test_text_shows_readable_units_and_json_keeps_integers(make_desired):
    desired = make_desired([{"name": "ORDERS", "subjects": ["orders.>"], "max_age": 3600 * S, "max_bytes": 1 << 20}])
    plan = plan_jetstream(desired, live_of([LIVE_ORDERS]))
    assert 'max_age: (none) -> "1h"' in render_text(plan) and 'max_bytes: -1 -> "1MiB"' in render_text(plan)
    assert {"path": "max_age", "before": None, "after": 3600 * S} in json.loads(render_json(plan))["changes"][0]["diff"]


def test_normalize_cache_reuses_a_result_only_for_the_same_config_and_related_objects(monkeypatch):
    from reconciler.jetstream import normalize as module
    from reconciler.jetstream.normalize import NormalizeCache

    calls, real = [], module.normalize
    monkeypatch.setattr(module, "normalize", lambda *args: calls.append(args) or real(*args))
    cache, stream = NormalizeCache(), {"name": "S", "consumer_limits": {"max_ack_pending": 5}}
    consumer = {"durable_name": "C", "ack_policy": "explicit"}
    first = cache(CONSUMER, consumer, V2128, stream)
    assert first == real(CONSUMER, consumer, V2128, stream) and first["max_ack_pending"] == 5
    assert cache(CONSUMER, consumer, V2128, stream) is first and len(calls) == 1
    other_stream = {"name": "S"}  # another related object: its defaults may differ
    assert cache(CONSUMER, consumer, V2128, other_stream)["max_ack_pending"] == 1000
    assert cache(CONSUMER, dict(consumer), V2128, other_stream) is not first  # an equal copy is another object
    assert len(calls) == 3


@pytest.mark.parametrize("value", ["orders", 'quote " and \\ and é and \n', "", 0, -1, 1 << 70, True, False, 1.5,
                                   [1, "a"], {"b": 1, "a": [True]}])
def test_plan_text_shows_a_value_as_its_json(value):
    from reconciler.plan.render.common import show

    assert show(value) == json.dumps(value, sort_keys=True)


def test_apply_keeps_its_limit_of_writes_in_flight_with_a_task_only_per_write_sent():
    """Enough requests in flight that the server always has the next one (bench/bench_apply.py), and no
    task for a step that cannot start yet: thousands parked on a semaphore cost a scan at each release."""
    import asyncio

    from reconciler.jetstream.execute import WRITE_CONCURRENCY, execute

    class Server:  # answers nothing until every request the limit allows has arrived
        def __init__(self):
            self.in_flight = self.most = self.tasks_when_full = 0
            self.full = asyncio.Event()

        async def request(self, subject, payload=None, timeout=None):
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            if self.in_flight == WRITE_CONCURRENCY:
                self.tasks_when_full = len(asyncio.all_tasks())
                self.full.set()
            await self.full.wait()
            self.in_flight -= 1
            return {"config": payload}

    server = Server()
    streams = [f"S{i}" for i in range(WRITE_CONCURRENCY + 10)]
    changes = [*(Change(f"stream/{s}", "create", desired={"name": s}) for s in streams),
               *(Change(f"consumer/{s}/C{j}", "create", desired={}) for s in streams for j in range(4))]
    steps = asyncio.run(asyncio.wait_for(execute(server, changes), 30))
    assert server.most == WRITE_CONCURRENCY >= 256 and all(s.status == "done" for s in steps)
    assert server.tasks_when_full <= WRITE_CONCURRENCY + 2  # the sends, the apply, and asyncio.run's main


def test_apply_raises_what_a_request_raised_unexpectedly_and_starts_nothing_after_it():
    import asyncio

    from reconciler.jetstream.execute import execute

    sent = []

    class Server:
        async def request(self, subject, payload=None, timeout=None):
            sent.append(subject)
            if subject.endswith(".BROKEN"):
                raise RuntimeError("a bug")
            return {"config": payload}

    changes = [Change("stream/BROKEN", "create", desired={"name": "BROKEN"}),
               Change("consumer/BROKEN/C", "create", desired={})]
    with pytest.raises(RuntimeError, match="a bug"):
        asyncio.run(asyncio.wait_for(execute(Server(), changes, concurrency=1), 30))
    assert sent == ["STREAM.CREATE.BROKEN"]


def test_plan_text_units_reach_nested_and_listed_durations_and_leave_other_fields_alone():
    from reconciler.plan.address import Address
    from reconciler.plan.render.common import readable

    stream, consumer = readable(Address("stream/S").kind), readable(Address("consumer/S/C").kind)
    assert stream("consumer_limits.inactive_threshold", 60 * S) == "1m"
    assert stream("consumer_limits", {"inactive_threshold": 3600 * S, "max_ack_pending": 5}) == \
        {"inactive_threshold": "1h", "max_ack_pending": 5}
    assert consumer("backoff", [S, 2 * S]) == ["1s", "2s"]
    assert stream("max_msgs_per_subject", 60 * S) == 60 * S and consumer("max_ack_pending", 1024) == 1024
    assert readable(Address("db/table/t").kind)("max_age", 60 * S) == 60 * S  # a database's values as they are
