"""Pure parts of running on a cluster: offline resources in the plan, and stream updates that both
scale and move split in two (the cluster behaviour itself is tested in tests/cluster/)."""

from __future__ import annotations

from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.execute import ordered_steps, steps_for
from reconciler.jetstream.observe import Live
from reconciler.jetstream.ownership import MANAGED_KEY, MANAGED_VALUE
from reconciler.jetstream.plan import plan_jetstream
from reconciler.manifest.model import CONSUMER, STREAM, DeclaredResource, Desired
from reconciler.plan.model import Action, Change, FieldChange

IDENTITY = ServerIdentity(name="n1", server_id="X", version="2.12.8", cluster="c", api_level=3)


def desired(streams: dict[str, dict], consumers: dict[tuple[str, str], dict]) -> Desired:
    return Desired({n: DeclaredResource(STREAM, n, c) for n, c in streams.items()},
                   {k: DeclaredResource(CONSUMER, k[1], c, stream=k[0]) for k, c in consumers.items()})


def test_offline_resources_are_shown_never_created_or_deleted():
    live = Live(IDENTITY, offline_streams={"DOWN": "", "GONE": "unsupported - config error"},
                offline_consumers={("UP", "LOST"): ""})
    live.streams["UP"] = {"config": {"name": "UP", "subjects": ["up.>"], "metadata": {MANAGED_KEY: MANAGED_VALUE}},
                          "state": {"consumer_count": 1}}
    want = desired({"DOWN": {"name": "DOWN", "subjects": ["down.>"]}, "UP": {"name": "UP", "subjects": ["up.>"]}},
                   {("DOWN", "C"): {"durable_name": "C"}, ("UP", "LOST"): {"durable_name": "LOST"}})
    plan = plan_jetstream(want, live, prune=True)
    assert {c.address: c.action for c in plan.changes} == {
        "stream/DOWN": Action.OFFLINE, "consumer/DOWN/C": Action.OFFLINE, "consumer/UP/LOST": Action.OFFLINE,
        "stream/GONE": Action.OFFLINE}
    assert not plan.has_changes and not plan.pending
    reasons = {c.address: c.reason for c in plan.changes}
    assert "cannot read it: no replica answered" in reasons["stream/DOWN"]
    assert "cannot read it: unsupported - config error" in reasons["stream/GONE"]


def update(after: dict, diff: list[FieldChange]) -> Change:
    return Change("stream/S", Action.UPDATE, diff, desired={"name": "S", **after})


def test_scaling_down_and_moving_scales_first_where_the_stream_is():
    change = update({"num_replicas": 1, "placement": {"tags": ["node:n2"]}},
                    [FieldChange("num_replicas", 3, 1), FieldChange("placement.tags", None, ["node:n2"])])
    first, second = steps_for(change)
    assert first.payload == {"name": "S", "num_replicas": 1}
    assert second.payload == change.desired and second.after == [first]


def test_scaling_up_and_moving_moves_first_at_the_current_size():
    change = update({"num_replicas": 3},
                    [FieldChange("num_replicas", 1, 3), FieldChange("placement.tags", ["node:n2"], None)])
    first, second = steps_for(change)
    assert first.payload == {"name": "S", "num_replicas": 1} and second.payload == {"name": "S", "num_replicas": 3}


def test_only_one_of_them_is_a_single_update():
    assert len(steps_for(update({"num_replicas": 1}, [FieldChange("num_replicas", 3, 1)]))) == 1


def test_consumers_wait_for_the_second_half():
    split = update({"num_replicas": 1, "placement": {"tags": ["a"]}},
                   [FieldChange("num_replicas", 3, 1), FieldChange("placement.tags", None, ["a"])])
    consumer = Change("consumer/S/C", "create", desired={"durable_name": "C"})
    deletes, (first, second, create), entries = ordered_steps([split, consumer])
    assert deletes == entries == [] and second.after == [first] and create.after == [second]


def test_verify_leaves_an_offline_consumer_of_a_touched_stream_alone():
    from reconciler.jetstream.execute import DONE
    from reconciler.jetstream.verify import verify

    live = Live(IDENTITY, offline_consumers={("UP", "LOST"): ""})
    live.streams["UP"] = {"config": {"name": "UP", "subjects": ["up.>"], "metadata": {MANAGED_KEY: MANAGED_VALUE}}}
    want = desired({"UP": {"name": "UP", "subjects": ["up.>"]}},
                   {("UP", "LOST"): {"durable_name": "LOST"}, ("UP", "NEW"): {"durable_name": "NEW"}})
    [create] = steps_for(Change("consumer/UP/NEW", "create", desired={"durable_name": "NEW"}))
    create.status = DONE
    create.reply = {"name": "NEW", "config": {"durable_name": "NEW", "name": "NEW",
                                              "metadata": {MANAGED_KEY: MANAGED_VALUE}}}
    verify(want, live, [create])  # LOST is offline, not missing: nothing left to do
