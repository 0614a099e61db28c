"""Adoption and ownership in the JetStream planner (pure): adopt, adopt-with-update, rename note."""

from __future__ import annotations

from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.observe import Live
from reconciler.jetstream.plan import MANAGED_KEY, plan_jetstream
from reconciler.manifest.model import STREAM, DeclaredResource, Desired

# Live configs as the server reports them, reduced to what matters here: the planner fills the
# server's defaults into both sides before comparing.
ORDERS = {"name": "ORDERS", "subjects": ["orders.>"],
          "metadata": {"_nats.level": "3", "_nats.req.level": "0", "_nats.ver": "2.12.8"}}


def live(*configs: dict) -> Live:
    state = Live(ServerIdentity("n", "id", "2.12.8", None, 3))
    for config in configs:
        state.streams[config["name"]] = {"config": config, "state": {"messages": 1, "bytes": 10, "consumer_count": 0}}
    return state


def declared(*configs: dict) -> Desired:
    return Desired({c["name"]: DeclaredResource(STREAM, c["name"], dict(c)) for c in configs})


def managed(config: dict) -> dict:
    return {**config, "metadata": {**config["metadata"], MANAGED_KEY: "true"}}


def test_identical_but_not_created_by_jsctl_is_adopted_metadata_only():
    (change,) = plan_jetstream(declared({"name": "ORDERS", "subjects": ["orders.>"]}), live(ORDERS)).changes
    assert change.action == "adopt" and not change.destructive
    assert [(d.path, d.before, d.after) for d in change.diff] == [(f"metadata.{MANAGED_KEY}", None, "true")]
    assert change.desired == {"name": "ORDERS", "subjects": ["orders.>"], "metadata": {MANAGED_KEY: "true"}}
    assert plan_jetstream(declared({"name": "ORDERS", "subjects": ["orders.>"]}), live(managed(ORDERS))).changes == []


def test_update_of_a_foreign_resource_adopts_it_too():
    (change,) = plan_jetstream(declared({"name": "ORDERS", "subjects": ["orders.>"], "max_msgs": 10}),
                               live(ORDERS)).changes
    assert change.action == "update" and change.details.adopts is True
    assert "also marks it as managed" in change.reason and change.desired["metadata"] == {MANAGED_KEY: "true"}


def test_renames_are_never_guessed():
    renamed = {"name": "ORDERS_V2", "subjects": ["orders.>"]}
    changes = plan_jetstream(declared(renamed), live(managed(ORDERS)), prune=True).changes
    assert [(c.address, c.action) for c in changes] == [("stream/ORDERS_V2", "create"), ("stream/ORDERS", "delete")]
    assert "never guesses renames" in changes[1].reason and changes[1].destructive
    # Without --prune the old stream is only a note, and nothing is deleted.
    kept = plan_jetstream(declared(renamed), live(managed(ORDERS))).changes
    assert [c.action for c in kept] == ["create", "unmanaged"]
    # A foreign stream is never pruned.
    foreign = plan_jetstream(declared(), live(ORDERS), prune=True).changes
    assert [c.action for c in foreign] == ["unmanaged"]
