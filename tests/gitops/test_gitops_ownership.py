"""Adoption and ownership per project in the JetStream planner (pure): adopt, take-over, prune only what
this project owns, legacy marks, rename note. The same rules on real servers: test_gitops_projects.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import UserError
from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.observe import Live
from reconciler.jetstream.ownership import MANAGED_KEY, OWNER_KEY, Ownership, Standing, owner_of
from reconciler.jetstream.plan import plan_jetstream, prune_candidates
from reconciler.manifest.model import CONSUMER, STREAM, DeclaredResource, Desired
from reconciler.plan.render.markdown import render_markdown
from reconciler.plan.render.text import render_text

# Live configs as the server reports them, reduced to what matters here: the planner fills the
# server's defaults into both sides before comparing.
ORDERS = {"name": "ORDERS", "subjects": ["orders.>"],
          "metadata": {"_nats.level": "3", "_nats.req.level": "0", "_nats.ver": "2.12.8"}}
A, B = Ownership("A"), Ownership("B")


def live(*configs: dict, consumers: tuple[tuple[str, dict], ...] = ()) -> Live:
    state = Live(ServerIdentity("n", "id", "2.12.8", None, 3))
    for config in configs:
        state.streams[config["name"]] = {"config": config, "state": {"messages": 1, "bytes": 10, "consumer_count": 0}}
    for stream, config in consumers:
        state.consumers[(stream, config["name"])] = {"name": config["name"], "config": config}
    return state


def declared(*configs: dict, consumers: tuple[tuple[str, dict], ...] = ()) -> Desired:
    return Desired({c["name"]: DeclaredResource(STREAM, c["name"], dict(c)) for c in configs},
                   {(s, c["name"]): DeclaredResource(CONSUMER, c["name"], dict(c), stream=s) for s, c in consumers})


def managed(config: dict, owner: str | None = None) -> dict:
    """``config`` as jsctl marks it: by a version before owners (no owner), or for project ``owner``."""
    return {**config, "metadata": {**config.get("metadata", {}), MANAGED_KEY: "true",
                                   **({OWNER_KEY: owner} if owner else {})}}


def consumer(name: str, owner: str | None = None) -> dict:
    return managed({"name": name, "durable_name": name, "ack_policy": "explicit"}, owner)


ORDERS_DECLARED = {"name": "ORDERS", "subjects": ["orders.>"]}


def test_identical_but_not_created_by_jsctl_is_adopted_metadata_only():
    (change,) = plan_jetstream(declared(ORDERS_DECLARED), live(ORDERS)).changes
    assert change.action == "adopt" and not change.destructive
    # The marks are metadata, not configuration: no field change, the config sent carries them.
    assert change.diff == [] and "marks it as managed" in change.reason
    assert change.desired == {"name": "ORDERS", "subjects": ["orders.>"], "metadata": {MANAGED_KEY: "true"}}
    assert plan_jetstream(declared(ORDERS_DECLARED), live(managed(ORDERS))).changes == []
    # With an owner set, the adoption records it.
    (change,) = plan_jetstream(declared(ORDERS_DECLARED), live(ORDERS), ownership=B).changes
    assert change.desired["metadata"] == {MANAGED_KEY: "true", OWNER_KEY: "B"} and "project B" in change.reason
    assert plan_jetstream(declared(ORDERS_DECLARED), live(managed(ORDERS, "B")), ownership=B).changes == []


def test_update_of_a_foreign_resource_adopts_it_too():
    (change,) = plan_jetstream(declared({**ORDERS_DECLARED, "max_msgs": 10}), live(ORDERS)).changes
    assert change.action == "update" and change.details.adopts is True
    assert "also marks it as managed" in change.reason and change.desired["metadata"] == {MANAGED_KEY: "true"}
    assert [d.path for d in change.diff] == ["max_msgs"]


def test_marks_written_in_a_manifest_are_replaced_and_never_compared():
    pasted = {**ORDERS_DECLARED, "metadata": {MANAGED_KEY: "no", OWNER_KEY: "A", "team": "x"}}
    (change,) = plan_jetstream(declared(pasted), live(managed({**ORDERS, "metadata": {"team": "y"}}, "B")),
                               ownership=B).changes
    assert [d.path for d in change.diff] == ["metadata.team"]
    assert change.desired["metadata"] == {"team": "x", MANAGED_KEY: "true", OWNER_KEY: "B"}


def test_renames_are_never_guessed():
    renamed = {"name": "ORDERS_V2", "subjects": ["orders.>"]}
    changes = plan_jetstream(declared(renamed), live(managed(ORDERS, "B")), prune=True, ownership=B).changes
    assert [(c.address, c.action) for c in changes] == [("stream/ORDERS_V2", "create"), ("stream/ORDERS", "delete")]
    assert "never guesses renames" in changes[1].reason and changes[1].destructive
    # Without --prune the old stream is only a note, and nothing is deleted.
    kept = plan_jetstream(declared(renamed), live(managed(ORDERS, "B")), ownership=B).changes
    assert [c.action for c in kept] == ["create", "unmanaged"]
    assert kept[1].reason == "created by project B, no longer in the manifests: delete it with --prune"
    # A foreign stream is never pruned.
    foreign = plan_jetstream(declared(), live(ORDERS), prune=True, ownership=B).changes
    assert [c.action for c in foreign] == ["unmanaged"]


def test_another_projects_resources_are_notes_never_pruned():
    state = live(managed(ORDERS, "A"), consumers=(("ORDERS", consumer("W", "A")),))
    for ownership in (B, Ownership()):
        changes = plan_jetstream(declared(), state, prune=ownership.owner is not None, ownership=ownership).changes
        assert [(c.address, c.action, c.details.owner) for c in changes] == [
            ("stream/ORDERS", "unmanaged", "A"), ("consumer/ORDERS/W", "unmanaged", "A")]
        assert changes[0].reason == "owned by project A, not in these manifests: left alone"
    assert prune_candidates(declared(), state, B) == (set(), set())
    assert "owned by project A" in render_text(plan_jetstream(declared(), state, ownership=B))


def test_declaring_another_projects_resource_is_an_error_unless_taken_over():
    state = live(managed(ORDERS, "A"))
    refused = plan_jetstream(declared(ORDERS_DECLARED), state, ownership=B)
    assert refused.errors == ["stream/ORDERS: owned by project A, declared by project B: remove it from these "
                              "manifests, or take it over with --from-owner A on plan and apply"]
    unowned = plan_jetstream(declared(ORDERS_DECLARED), state)
    assert len(unowned.errors) == 1 and "no owner is set" in unowned.errors[0] and "--owner" in unowned.errors[0]
    # --from-owner of some other project does not do.
    assert plan_jetstream(declared(ORDERS_DECLARED), state, ownership=Ownership("B", "C")).errors
    taken = plan_jetstream(declared(ORDERS_DECLARED), state, ownership=Ownership("B", "A"))
    (change,) = taken.changes
    assert taken.errors == [] and change.action == "adopt" and change.details.owner == "A" and change.diff == []
    assert change.desired["metadata"] == {MANAGED_KEY: "true", OWNER_KEY: "B"}
    assert "apply hands it to project B" in change.reason
    (update,) = plan_jetstream(declared({**ORDERS_DECLARED, "max_msgs": 5}), state,
                               ownership=Ownership("B", "A")).changes
    assert update.action == "update" and update.details.adopts and update.details.owner == "A"
    assert update.details.to_dict() == {"adopts": True, "owner": "A"}


def test_taking_a_stream_over_leaves_its_undeclared_consumers_with_their_owner():
    state = live(managed(ORDERS, "A"), consumers=(("ORDERS", consumer("A_READS", "A")),
                                                  ("ORDERS", consumer("B_READS", "A"))))
    plan = plan_jetstream(declared(ORDERS_DECLARED, consumers=(("ORDERS", consumer("B_READS")),)), state,
                          prune=True, ownership=Ownership("B", "A"))
    assert plan.errors == []
    assert [(c.address, c.action, c.details.owner) for c in plan.changes] == [
        ("stream/ORDERS", "adopt", "A"), ("consumer/ORDERS/B_READS", "adopt", "A"),
        ("consumer/ORDERS/A_READS", "unmanaged", "A")]


def test_legacy_marks_get_this_owner_only_when_declared_and_are_never_pruned():
    state = live(managed(ORDERS), managed({"name": "OLD", "subjects": ["old.>"]}))
    plan = plan_jetstream(declared(ORDERS_DECLARED), state, prune=True, ownership=B)
    assert [(c.address, c.action) for c in plan.changes] == [("stream/ORDERS", "adopt"), ("stream/OLD", "unmanaged")]
    assert plan.changes[0].desired["metadata"] == {MANAGED_KEY: "true", OWNER_KEY: "B"}
    assert "before owners were recorded" in plan.changes[0].reason and plan.changes[0].details.owner is None
    assert "before owners were recorded" in plan.changes[1].reason and not plan.pending[1:]
    # No owner set: legacy resources are jsctl's as before, nothing to record.
    assert [c.action for c in plan_jetstream(declared(ORDERS_DECLARED), state).changes] == ["unmanaged"]


def test_a_stream_another_projects_consumer_is_on_is_not_pruned():
    state = live(managed(ORDERS, "B"), consumers=(("ORDERS", consumer("THEIRS", "A")),
                                                  ("ORDERS", consumer("MINE", "B")),
                                                  ("ORDERS", {"name": "HAND", "durable_name": "HAND"})))
    plan = plan_jetstream(declared(), state, prune=True, ownership=B)
    assert [(c.address, c.action) for c in plan.changes] == [
        ("stream/ORDERS", "unmanaged"), ("consumer/ORDERS/HAND", "unmanaged"), ("consumer/ORDERS/MINE", "delete"),
        ("consumer/ORDERS/THEIRS", "unmanaged")]
    assert "--prune leaves it while consumers jsctl made for others are on it: consumer/ORDERS/THEIRS (project A)" \
        in plan.changes[0].reason
    assert prune_candidates(declared(), state, B) == (set(), {("ORDERS", "MINE")})
    # Without it, the stream goes with every consumer on it (hand-made ones are deleted with their stream).
    del state.consumers[("ORDERS", "THEIRS")]
    assert {c.action for c in plan_jetstream(declared(), state, prune=True, ownership=B).changes} == {"delete"}


def test_prune_and_take_over_need_an_owner():
    Ownership("B").check(prune=True)
    Ownership().check(prune=False)
    with pytest.raises(UserError, match=r"^--prune deletes only what this project owns, and no owner is set: set it "
                                        r"with --owner NAME, JSCTL_OWNER, or `project: NAME` in jsctl.yaml$"):
        Ownership().check(prune=True)
    with pytest.raises(UserError, match="--from-owner"):
        Ownership(None, "A").check(prune=False)


def test_an_owner_written_by_hand_is_shown_escaped():
    state = live(managed(ORDERS, "A\x1b[2J"))
    (note,) = plan_jetstream(declared(), state, ownership=B).changes
    assert "\x1b" not in note.reason and "A\\x1b[2J" in note.reason and note.details.owner == "A\x1b[2J"
    assert "\x1b" not in " ".join(plan_jetstream(declared(ORDERS_DECLARED), state, ownership=B).errors)


def test_ownership_is_never_a_field_change_in_markdown_or_text():
    state = live(ORDERS, managed({"name": "OLD"}), managed({"name": "TAKEN"}, "A"))
    plan = plan_jetstream(declared(ORDERS_DECLARED, {"name": "OLD"}, {"name": "TAKEN", "max_msgs": 3}), state,
                          ownership=Ownership("B", "A"))
    assert [c.action for c in plan.changes] == ["adopt", "adopt", "update"]
    for text in (render_markdown(plan), render_text(plan)):
        assert "io.jsctl" not in text


MARKS = st.sampled_from([None, "legacy", "A", "B"])  # not jsctl's, marked without owner, project A's, B's


def marked(config: dict, mark: str | None) -> dict:
    return config if mark is None else managed(config, None if mark == "legacy" else mark)


@settings(max_examples=300, deadline=None)
@given(streams=st.dictionaries(st.sampled_from(["S1", "S2", "S3"]), st.tuples(MARKS, st.booleans()), max_size=3),
       consumers=st.dictionaries(st.tuples(st.sampled_from(["S1", "S2", "S3"]), st.sampled_from(["C1", "C2"])),
                                 st.tuples(MARKS, st.booleans()), max_size=6),
       owner=st.sampled_from([None, "A", "B"]), from_owner=st.sampled_from([None, "A", "B"]))
def test_prune_never_deletes_what_jsctl_marked_for_another_project_or_for_none(streams, consumers, owner, from_owner):
    state = live(*(marked({"name": name, "subjects": [f"{name}.>"]}, mark) for name, (mark, _) in streams.items()),
                 consumers=tuple((s, marked({"name": c, "durable_name": c, "ack_policy": "explicit"}, mark))
                                 for (s, c), (mark, _) in consumers.items() if s in streams))
    wanted = declared(*({"name": name, "subjects": [f"{name}.>"]} for name, (_, kept) in streams.items() if kept),
                      consumers=tuple((s, {"name": c, "durable_name": c, "ack_policy": "explicit"})
                                      for (s, c), (_, kept) in consumers.items()
                                      if kept and s in streams and streams[s][1]))
    ownership = Ownership(owner, from_owner if owner else None)
    plan = plan_jetstream(wanted, state, prune=owner is not None, ownership=ownership)
    deleted = {c.address for c in plan.changes if c.action == "delete"}
    streams_gone, consumers_gone = prune_candidates(wanted, state, ownership) if owner else (set(), set())
    assert deleted == {f"stream/{s}" for s in streams_gone} | {f"consumer/{s}/{c}" for s, c in consumers_gone}
    for address in deleted:
        kind, *names = address.split("/")
        config = (state.streams[names[0]] if kind == "stream" else state.consumers[tuple(names)])["config"]
        standing = ownership.standing(config)
        assert standing is Standing.OURS or (kind == "consumer" and names[0] in streams_gone
                                             and standing is Standing.UNMARKED), (address, standing)
    # Declaring what another project owns is an error, unless this plan takes it over from that project.
    owned_elsewhere = {str(r.address) for r in [*wanted.streams.values(), *wanted.consumers.values()]
                       if (item := (state.streams.get(r.name) if r.kind == STREAM else
                                    state.consumers.get((r.stream, r.name)))) is not None
                       and ownership.standing(item["config"]) is Standing.OTHERS
                       and owner_of(item["config"]) != ownership.from_owner}
    assert {error.split(":")[0] for error in plan.errors} == owned_elsewhere
