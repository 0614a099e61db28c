"""KV entries, the pure parts (jetstream/entries.py, the renderers): what is planned for a key, how its
value is shown (cut at 200 characters; a sensitive one never), how a stored message reads as a key."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.entries import (
    LiveEntry,
    live_entry,
    plan_entries,
    plan_entry,
    planned_entries,
)
from reconciler.jetstream.observe import Live
from reconciler.jetstream.ownership import MANAGED_KEY, OWNER_KEY, Ownership
from reconciler.manifest.model import DeclaredEntry, Desired
from reconciler.plan.model import Action, Change, Plan
from reconciler.plan.planfile import PlanBasis, SavedPlan, resolved_digest
from reconciler.plan.render.json import render_json
from reconciler.plan.render.markdown import render_markdown
from reconciler.plan.render.prometheus import render_prometheus
from reconciler.plan.render.text import render_text

OURS = Ownership("app")
BY_US = {MANAGED_KEY: "true", OWNER_KEY: "app"}


def entry(key: str = "k", value: bytes = b"on", sensitive: bool = False) -> DeclaredEntry:
    return DeclaredEntry("B", key, value, sensitive)


def test_a_key_is_created_updated_back_or_left():
    assert plan_entry(entry(), LiveEntry(4, b"on", BY_US), OURS) is None
    create = plan_entry(entry(), LiveEntry(), OURS)
    assert (create.action, create.desired, create.diff[0].before, create.diff[0].after, create.reason) == \
        (Action.CREATE, {"revision": 0}, None, "on", None)
    deleted = plan_entry(entry(), LiveEntry(7, None), OURS)  # a DEL/PURGE marker: its revision is expected
    assert (deleted.action, deleted.desired) == (Action.CREATE, {"revision": 7})
    by_hand = plan_entry(entry(), LiveEntry(9, b"off"), OURS)
    assert (by_hand.action, by_hand.desired, by_hand.diff[0].before) == (Action.UPDATE, {"revision": 9}, "off")
    assert by_hand.reason == "changed outside jsctl: apply writes the declared value back"
    assert plan_entry(entry(), LiveEntry(9, b"off", BY_US), OURS).reason is None


def test_prune_deletes_only_this_projects_keys_that_have_a_value():
    live = {("B", "ours"): LiveEntry(1, b"x", BY_US), ("B", "gone"): LiveEntry(2, None, BY_US),
            ("B", "theirs"): LiveEntry(3, b"x", {MANAGED_KEY: "true", OWNER_KEY: "other"}),
            ("B", "hand"): LiveEntry(4, b"x"), ("B", "k"): LiveEntry(5, b"on", BY_US)}
    declared = {("B", "k"): entry()}
    assert plan_entries(declared, live, OURS) == Plan()
    [delete] = plan_entries(declared, live, OURS, prune=True).changes
    assert (str(delete.address), delete.action, delete.destructive, delete.desired, delete.details.sensitive) == \
        ("kv/B/ours", Action.DELETE, True, {"revision": 1}, True)
    fresh = plan_entries(declared, live, OURS, fresh={"B"}, prune=True).changes  # a bucket made or replaced: empty
    assert [(c.action, c.desired) for c in fresh] == [(Action.CREATE, {"revision": 0})]


def test_stored_messages_read_as_keys():
    def message(headers: str, data: bytes = b"") -> dict:
        raw = base64.b64encode(f"NATS/1.0\r\n{headers}\r\n".encode()).decode() if headers else None
        return {"seq": 12, "hdrs": raw, "data": base64.b64encode(data).decode()}

    assert live_entry(message("", b"v")) == LiveEntry(12, b"v", {})
    assert live_entry(message("Jsctl-Managed: true\r\nJsctl-Owner: app", b"v")) == LiveEntry(12, b"v", BY_US)
    for deleting in ("KV-Operation: DEL", "KV-Operation: PURGE\r\nNats-Rollup: sub", "Nats-Marker-Reason: MaxAge"):
        assert live_entry(message(deleting)).value is None


def test_long_values_are_cut_at_200_characters_in_text_and_markdown_only():
    long = "v" * 300
    plan = Plan([plan_entry(entry(value=long.encode()), LiveEntry(3, b"old"), OURS)])
    cut = f'"{"v" * 199}… (302 characters)'
    assert f'value: "old" -> {cut}' in render_text(plan)
    assert f"+ value: {cut}" in render_markdown(plan)
    assert json.loads(render_json(plan))["changes"][0]["diff"][0]["after"] == long


@given(st.binary(max_size=300), st.one_of(st.none(), st.binary(max_size=300)))
def test_a_sensitive_value_is_in_no_rendering_nor_saved_plan(value, live):
    declared, secret = b"SECRET-" + value, b"HIDDEN-" + live if live is not None else None
    change = plan_entry(entry(value=declared, sensitive=True), LiveEntry(5, secret), OURS)
    plan = Plan([change])
    saved = json.dumps(SavedPlan(plan, PlanBasis()).to_dict())
    shown = "\n".join([render_text(plan), render_markdown(plan), render_json(plan), render_prometheus(plan, 0), saved])
    assert "SECRET-" not in shown and "HIDDEN-" not in shown
    assert "value: (sensitive: not shown)" in render_text(plan)
    assert "  value: (sensitive: not shown)" in render_markdown(plan) and "→ (sensitive" not in render_markdown(plan)
    data = json.loads(render_json(plan))["changes"][0]
    assert data["diff"] == [{"path": "value", "before": None, "after": None, "sensitive": True}]
    assert data["sensitive"] is True and data["details"] == {"sensitive": True}
    assert Plan.from_dict(json.loads(render_json(plan))).changes[0].details.sensitive


def test_keys_of_a_bucket_the_plan_creates_are_created_and_of_an_offline_one_left_out():
    identity = ServerIdentity("n1", "id", "2.12.8", None, 3)
    live = Live(identity, offline_streams={"KV_DOWN": "no replica answered"},
                entries={("NEW", "k"): LiveEntry(4, b"old", BY_US)})
    declared = Desired(entries={("NEW", "k"): DeclaredEntry("NEW", "k", b"on"),
                                ("DOWN", "k"): DeclaredEntry("DOWN", "k", b"on")})
    plan = Plan([Change("kv/NEW", Action.REPLACE), Change("kv/DOWN", Action.OFFLINE)])
    assert [(str(c.address), c.action, c.desired) for c in planned_entries(declared, live, plan, OURS).changes] == [
        ("kv/NEW/k", Action.CREATE, {"revision": 0})]


def test_the_configuration_digest_of_a_saved_plan_takes_entries_and_hints():
    """A sensitive entry counts by its presence only; the manifests' hints are no configuration."""
    def digest_of(value: bytes, **more) -> str:
        return resolved_digest(Desired(entries={("B", "k"): DeclaredEntry("B", "k", value, True)}, **more))

    assert digest_of(b"one", hints=["a hint"]) == digest_of(b"two") != resolved_digest(Desired())


def test_a_key_another_project_wrote_last_is_a_plan_error_unless_taken_over():
    search = {MANAGED_KEY: "true", OWNER_KEY: "search"}
    declared = {("B", "k"): entry(), ("B", "same"): entry("same")}
    live = {("B", "k"): LiveEntry(3, b"off", search), ("B", "same"): LiveEntry(4, b"on", search)}
    refused = plan_entries(declared, live, OURS)
    assert [(str(c.address), c.action, c.details.owner) for c in refused.changes] == [
        ("kv/B/k", Action.UPDATE, "search"), ("kv/B/same", Action.ADOPT, "search")]
    assert refused.errors == [
        f"kv/B/{key}: owned by project search, declared by project app: remove it from these manifests, or take it "
        "over with --from-owner search on plan and apply" for key in ("k", "same")]
    taken = plan_entries(declared, live, Ownership("app", "search"))
    assert taken.errors == [] and [c.desired for c in taken.changes] == [{"revision": 3}, {"revision": 4}]
    assert taken.changes[1].reason == "written last by project search: apply writes it again as managed by " \
                                      "project app (--from-owner)"


KEYS = st.sampled_from(["a", "b", "c/d", "e.f"])
OWNERS = st.sampled_from([{}, BY_US, {MANAGED_KEY: "true"}, {MANAGED_KEY: "true", OWNER_KEY: "other"}])
STATES = st.builds(LiveEntry, st.integers(1, 99), st.one_of(st.none(), st.sampled_from([b"on", b"off"])), OWNERS)


@given(st.dictionaries(KEYS, st.tuples(st.sampled_from([b"on", b"off"]), st.booleans())),
       st.dictionaries(KEYS, STATES), st.booleans())
def test_only_declared_keys_change_and_prune_takes_only_this_projects(declared_values, live_states, prune):
    declared = {("B", k): DeclaredEntry("B", k, v, s) for k, (v, s) in declared_values.items()}
    live = {("B", k): state for k, state in live_states.items()}
    planned = plan_entries(declared, live, OURS, prune=prune)
    for change in planned.changes:
        where = tuple(change.address.names)
        state = live.get(where, LiveEntry())
        assert change.desired == {"revision": state.revision}  # the revision seen, whatever the action
        if change.action == Action.DELETE:
            assert prune and where not in declared and state.marks == BY_US and state.value is not None
        else:
            assert where in declared
            assert (state.value != declared[where].value) or change.action == Action.ADOPT
        if change.details.sensitive or change.action == Action.DELETE:
            assert all(d.before is None and d.after is None for d in change.diff)
