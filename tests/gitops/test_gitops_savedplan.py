"""Saved plan file format and the staleness rules (pure, no servers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from unittest import mock

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler import __version__, errors
from reconciler.errors import EXIT_REFUSED, JsctlError, Refused, UserError, keep_secret
from reconciler.jetstream.client import ServerIdentity
from reconciler.manifest.model import DeclaredResource, Desired
from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.plan.planfile import (
    _SEED_SHAPE,
    PlanBasis,
    SavedPlan,
    ensure_no_secret,
    manifest_digests,
    resolved_digest,
    stale_reasons,
    target_of,
    write_environment_plans,
)

STREAM = {"name": "USER_TXN", "subjects": ["USER_TXN.*"], "max_age": 31536000000000000}
CONSUMER = {"durable_name": "GRP_MAKER", "filter_subject": "USER_TXN.maker", "max_ack_pending": 100}
CREATED = "2026-11-27T09:00:00.123456789Z"
TARGET = target_of(ServerIdentity("n1", "NABC", "2.12.8", None, 3))


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "streams.yaml").write_text("streams:\n- name: USER_TXN\n")
    (tmp_path / "consumers.yaml").write_text("consumers: []\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_init.py").write_text("revision = '0001'\n")
    (versions / "__pycache__").mkdir()
    (versions / "__pycache__" / "x.pyc").write_bytes(b"\0")
    return tmp_path


def basis(manifests, stream=STREAM, revision="0001", schema=None, created=CREATED) -> PlanBasis:
    live = {"stream/USER_TXN": {"config": stream, "created": created},
            "consumer/USER_TXN/GRP_MAKER": {"config": CONSUMER, "created": CREATED}}
    return PlanBasis.build(manifests=manifests, live=live, target=TARGET,
                           database={"revision": revision, "schema": schema or "sha256:users"})


def a_plan() -> Plan:
    return Plan([Change("stream/USER_TXN", "update", [FieldChange("max_age", 1, 2)], desired=STREAM)],
                context={"server": "nats://127.0.0.1:4222"})


def test_manifest_digests_are_relative_and_skip_bytecode(project):
    digests = manifest_digests(["streams.yaml", project / "consumers.yaml", "migrations", "missing.yaml"])
    assert list(digests) == ["consumers.yaml", "migrations/versions/0001_init.py", "streams.yaml"]
    assert all(v.startswith("sha256:") for v in digests.values())


def test_round_trip_and_fresh_plan_applies(project, tmp_path):
    digests = manifest_digests(["streams.yaml", "consumers.yaml", "migrations"])
    saved = SavedPlan(a_plan(), basis(digests))
    saved.write(tmp_path / "plan.json")
    loaded = SavedPlan.read(tmp_path / "plan.json")
    assert loaded.plan.to_dict() == saved.plan.to_dict()
    assert loaded.basis == saved.basis and loaded.jsctl_version == __version__
    data = json.loads((tmp_path / "plan.json").read_text())
    assert data["kind"] == "jsctl-saved-plan" and data["format_version"] == 3 and data["created_at"].endswith("Z")
    loaded.ensure_fresh(basis(manifest_digests(["streams.yaml", "consumers.yaml", "migrations"])))


def test_edited_manifest_is_stale(project):
    saved = SavedPlan(a_plan(), basis(manifest_digests(["streams.yaml", "consumers.yaml"])))
    (project / "streams.yaml").write_text("streams:\n- name: USER_TXN\n  max_msgs: 5\n")
    with pytest.raises(Refused) as err:
        saved.ensure_fresh(basis(manifest_digests(["streams.yaml", "consumers.yaml"])))
    assert "manifest file streams.yaml was edited since the plan" in str(err.value)
    assert err.value.exit_code == EXIT_REFUSED


def test_live_edit_new_migration_and_database_changes_are_stale():
    saved = basis({})
    edited = {**STREAM, "max_age": 86400 * 10**9, "max_msgs": 5}
    assert stale_reasons(saved, basis({}, stream=edited)) == [
        'live resource stream/USER_TXN was changed since the plan: max_age: "1y" -> "1d", max_msgs: (none) -> 5']
    assert stale_reasons(saved, basis({"migrations/versions/0002.py": "sha256:x"})) == [
        "manifest file migrations/versions/0002.py appeared since the plan"]
    assert stale_reasons(saved, basis({}, revision="0002")) == [
        "the database revision is 0002, the plan was made at 0001"]
    assert stale_reasons(saved, basis({}, schema="sha256:users+audit")) == [
        "the database schema changed since the plan"]
    gone = PlanBasis.build(manifests={}, live={}, target=TARGET)
    assert "live resource stream/USER_TXN disappeared since the plan" in stale_reasons(saved, gone)


def test_live_changes_name_how_and_when_known():
    saved = basis({})
    later = "2026-11-28T10:00:00Z"
    smaller = {**STREAM, "max_msgs": 5}
    assert stale_reasons(saved, basis({}, stream=smaller, created=later)) == [
        f"live resource stream/USER_TXN was deleted and created again since the plan (created at {later}): "
        "max_msgs: (none) -> 5"]
    # Only configs count: re-created as it was, or read again after a restart of nats-server 2.10 or
    # 2.11, which moves a consumer's creation time by a fraction of a millisecond (measured).
    assert stale_reasons(saved, basis({}, created=later)) == []
    moved = "2026-11-27T09:00:00.123498123Z"
    assert stale_reasons(saved, basis({}, stream=smaller, created=moved)) == [
        "live resource stream/USER_TXN was changed since the plan: max_msgs: (none) -> 5"]
    unmarked = {**STREAM, "metadata": {"io.jsctl.managed": "true"}}
    assert stale_reasons(basis({}, stream=unmarked), saved) == [
        'live resource stream/USER_TXN was changed since the plan: metadata.io.jsctl.managed: "true" -> (none)']
    now = basis({})
    now.live["consumer/USER_TXN/NEW"] = {"config": CONSUMER, "created": later}
    now.live["stream/USER_TXN"] = {"offline": True}
    assert stale_reasons(saved, now) == [
        f"live resource consumer/USER_TXN/NEW appeared since the plan (created at {later})",
        "live resource stream/USER_TXN cannot be read since the plan (its servers went down or came back)"]


def test_a_stale_refusal_shows_twenty_reasons_and_how_to_recover():
    saved = SavedPlan(a_plan(), PlanBasis(live={f"stream/S{i:02d}": {"config": {"name": f"S{i:02d}"}}
                                                for i in range(25)}))
    with pytest.raises(Refused) as err:
        saved.ensure_fresh(PlanBasis())
    message = str(err.value)
    assert message.count("disappeared since the plan") == 20 and "S19 disappeared" in message
    assert message.endswith("; and 5 more. Nothing was applied: run `jsctl plan --out FILE` again, review the new "
                            "plan and apply that")


def test_other_target_is_stale_but_another_node_of_the_same_cluster_is_not():
    on_node = PlanBasis(target=target_of(ServerIdentity("n1", "A", "2.12.8", "prod", 3)))
    other_node = PlanBasis(target=target_of(ServerIdentity("n2", "B", "2.12.8", "prod", 3)))
    staging = PlanBasis(target=target_of(ServerIdentity("s1", "C", "2.12.8", "staging", 3)))
    assert stale_reasons(on_node, other_node) == []
    assert stale_reasons(on_node, staging) == [
        "the target differs: the plan was made against cluster prod (nats-server 2.12.8), "
        "this is cluster staging (nats-server 2.12.8)"]


def test_a_plan_for_one_jetstream_domain_is_stale_for_another():
    leaf = PlanBasis(target=target_of(ServerIdentity("hub", "A", "2.12.8", None, 3, domain="leaf")))
    hub = PlanBasis(target=target_of(ServerIdentity("hub", "A", "2.12.8", None, 3, domain="hub")))
    assert stale_reasons(leaf, hub) == [
        "the target differs: the plan was made against server hub (nats-server 2.12.8), JetStream domain leaf, "
        "this is server hub (nats-server 2.12.8), JetStream domain hub"]


def test_plan_from_another_jsctl_version_is_refused():
    saved = SavedPlan(a_plan(), basis({}), jsctl_version="0.0.1")
    with pytest.raises(Refused, match=r"made by jsctl 0\.0\.1"):
        saved.ensure_fresh(basis({}))


def test_no_secret_is_ever_written(tmp_path):
    leaky = a_plan()
    keep_secret("s3cret-pass")  # as the connection options do with every password they see
    leaky.context["server"] = "nats://app:s3cret-pass@host:4222"
    leaky.context["s3cret-pass"] = ["fine", {"deeper": "s3cret-pass"}]
    with pytest.raises(JsctlError, match="contain a secret") as refused:
        SavedPlan(leaky, basis({})).write(tmp_path / "p.json")
    # where, never what
    assert "plan.context.server, plan.context.*** (a key), plan.context.***[1].deeper would" in str(refused.value)
    assert "s3cret-pass" not in str(refused.value)
    seed = "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY"
    leaky.context = {"note": seed}
    with pytest.raises(JsctlError, match=r"plan\.context\.note would"):
        SavedPlan(leaky, basis({})).write(tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()
    # The basis records live configs: metadata holds whatever a client put there, a secret included.
    recorded = basis({}, stream={**STREAM, "metadata": {"note": "s3cret-pass"}})
    with pytest.raises(JsctlError, match=r"basis\.live\.stream/USER_TXN\.config\.metadata\.note would"):
        SavedPlan(a_plan(), recorded).write(tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


def test_an_out_file_that_cannot_be_written_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"--out .*missing/p\.json: No such file or directory"):
        SavedPlan(a_plan(), basis({})).write(tmp_path / "missing" / "p.json")


def test_a_secret_json_escapes_is_found_in_the_written_text(tmp_path):
    keep_secret('pä"ss\\wörd')
    escaped = basis({}, stream={**STREAM, "metadata": {"note": 'the pä"ss\\wörd is here'}})
    with pytest.raises(JsctlError, match=r"basis\.live\.stream/USER_TXN\.config\.metadata\.note would"):
        SavedPlan(a_plan(), escaped).write(tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


SEED = "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY"


@pytest.mark.parametrize("text, found", [
    (SEED, True), (f"seed: {SEED}.", True), (f"-{SEED}", True), (f"é{SEED}", False), (f"x{SEED}", False),
    (f"_{SEED}", False), (f"S{SEED}", False), (f"{SEED}A", False), (SEED[:-1], False),
])
def test_a_seed_is_found_as_a_word_of_its_own(text, found):
    assert bool(_SEED_SHAPE.search(text)) is found
    assert bool(_SEED_SHAPE.search(json.dumps({"plan": text}, indent=2))) is found


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=20)


def _refusal(value, text=None) -> str | None:
    try:
        ensure_no_secret(value, text)
    except JsctlError as refused:
        return str(refused)
    return None


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, secret=st.text(min_size=4, max_size=12))
def test_the_one_pass_search_of_the_text_never_misses_what_the_walk_finds(value, secret):
    # The walk reads true and null as Python's "True" and "None", which the file does not hold.
    assume(not any(secret in word for word in ("True", "False", "None")))
    with mock.patch.object(errors, "_SECRETS", set()):  # this test's secrets stay this test's
        keep_secret(secret)
        for planted in (value, {"k": ["x", f"a{secret}b"], "v": value}):
            walked = _refusal(planted)
            searched = _refusal(planted, json.dumps(planted, indent=2, sort_keys=True))
            assert searched == walked or (walked is None and "the file would" in searched), (walked, searched)


def with_change(**edit: object) -> str:
    """A saved plan whose one change is edited by hand."""
    change = {"address": "stream/A", "action": "update", "diff": [], "destructive": False, "reason": None,
              "details": {}, "desired": {}, **edit}
    return json.dumps({"kind": "jsctl-saved-plan", "format_version": 3, "basis": {}, "plan": {"changes": [change]}})


@pytest.mark.parametrize("content, message", [
    ("{", "is not JSON"),
    ('{"kind": "other"}', "is not a jsctl saved plan"),
    ('{"kind": "jsctl-saved-plan", "format_version": 99}', "format 99"),
    ('{"kind": "jsctl-saved-plan", "format_version": 1}', "format 1, this jsctl reads format 3"),
    ('{"kind": "jsctl-saved-plan", "format_version": 2}', "format 2, this jsctl reads format 3"),
    ('{"kind": "jsctl-saved-plan", "format_version": 3}', "damaged"),
    ('{"kind": "jsctl-saved-plan", "format_version": 3, "basis": {"live": {"stream/S": "sha256:ab"}}, "plan": {}}',
     "damaged"),
    ('{"kind": "jsctl-saved-plan", "format_version": 3, "basis": {"target": "x"}, "plan": {}}',
     r"damaged \(basis\.target is not"),
    ('{"kind": "jsctl-saved-plan", "format_version": 3, "basis": {"database": []}, "plan": {}}',
     r"damaged \(basis\.database is not"),
    ('{"kind": "jsctl-saved-plan", "format_version": 3, "basis": {}, "plan": {"changes": [1]}}', "damaged"),
    (with_change(details=[]),
     r"damaged \(a change's details is not"),
    (with_change(details={"destroys": [1]}),
     r"damaged \(a change's details\.destroys is not"),
    (with_change(desired="x"),
     r"damaged \(a change's desired is not"),
    (with_change(reason=7),
     r"damaged \(a change's reason is not"),
    (with_change(diff=[{"path": 1, "before": 1, "after": 2}]),
     r"damaged \(a change's diff is not"),
    ('{"kind": "jsctl-saved-plan", "format_version": 3, "basis": {}, "plan": {"changes": [], "context": {"nats": 1}}}',
     r"damaged \(the plan's context\.nats is not"),
])
def test_bad_plan_files_are_user_errors(tmp_path, content, message):
    (tmp_path / "p.json").write_text(content)
    with pytest.raises(UserError, match=message):
        SavedPlan.read(tmp_path / "p.json")


def test_a_plan_for_one_environment_is_refused_for_another_in_one_line():
    saved = SavedPlan(a_plan(), PlanBasis(environment="dev"))
    saved.ensure_environment("dev")
    with pytest.raises(Refused) as err:
        saved.ensure_environment("prod")
    assert str(err.value) == ("the saved plan was made for environment dev, this is environment prod: nothing was "
                              "applied; apply it with --env dev, or plan for environment prod and apply that")
    assert err.value.exit_code == EXIT_REFUSED
    with pytest.raises(Refused, match=r"made for environment dev, this is no environment \(no --env\)"):
        saved.ensure_environment(None)
    with pytest.raises(Refused, match=r"made for no environment \(no --env\), this is environment prod: nothing "
                                      r"was applied; apply it without --env"):
        SavedPlan(a_plan(), PlanBasis()).ensure_environment("prod")


def test_another_account_or_domain_is_another_target_and_the_one_reason_given():
    dev = target_of(ServerIdentity("n1", "A", "2.12.8", None, 3, account="DEV", domain="leaf"))
    saved = PlanBasis(manifests={"streams.yaml": "sha256:a"}, target=dev)
    for other in (ServerIdentity("n1", "A", "2.12.8", None, 3, account="PROD", domain="leaf"),
                  ServerIdentity("n1", "A", "2.12.8", None, 3, account="DEV", domain="hub")):
        now = PlanBasis(manifests={"streams.yaml": "sha256:b"}, target=target_of(other))
        reasons = stale_reasons(saved, now)  # the edited manifest is not listed: against another target, all differs
        assert reasons == ["the target differs: the plan was made against server n1 (nats-server 2.12.8), "
                           "account DEV, JetStream domain leaf, this is server n1 (nats-server 2.12.8), "
                           f"account {other.account}, JetStream domain {other.domain}"]


def test_an_account_only_one_user_could_ask_for_is_no_difference():
    asked = PlanBasis(target=target_of(ServerIdentity("n1", "A", "2.12.8", None, 3, account="APP")))
    unknown = PlanBasis(target=target_of(ServerIdentity("n1", "A", "2.12.8", None, 3)))
    assert stale_reasons(asked, unknown) == stale_reasons(unknown, asked) == []


def test_the_resolved_configuration_is_part_of_the_basis():
    def desired(replicas):
        return Desired({"S": DeclaredResource("stream", "S", {"name": "S", "num_replicas": replicas})},
                       {("S", "C"): DeclaredResource("consumer", "C", {"durable_name": "C"}, stream="S")},
                       files=["streams.yaml"])

    assert resolved_digest(desired(1)) == resolved_digest(desired(1)) != resolved_digest(desired(3))
    saved = PlanBasis(configuration=resolved_digest(desired(1)))
    assert stale_reasons(saved, PlanBasis(configuration=resolved_digest(desired(3)))) == [
        "the manifests resolve to another configuration than the plan's (other variables, or the environment's "
        "files changed)"]
    edited = PlanBasis(manifests={"streams.yaml": "sha256:b"}, configuration=resolved_digest(desired(3)))
    assert stale_reasons(PlanBasis(manifests={"streams.yaml": "sha256:a"}, configuration=saved.configuration),
                         edited) == ["manifest file streams.yaml was edited since the plan"]  # the cause, once


def test_all_environments_plans_are_written_one_file_each_or_none(tmp_path):
    plans = [("dev", SavedPlan(a_plan(), PlanBasis(environment="dev"))),
             ("prod", SavedPlan(a_plan(), PlanBasis(environment="prod")))]
    written = write_environment_plans(tmp_path / "plans", plans)
    assert written == [tmp_path / "plans" / "dev.plan.json", tmp_path / "plans" / "prod.plan.json"]
    assert SavedPlan.read(written[1]).basis.environment == "prod"
    keep_secret("env-s3cret-pass")
    leaky = a_plan()
    leaky.context["note"] = "env-s3cret-pass"
    with pytest.raises(JsctlError, match="contain a secret"):
        write_environment_plans(tmp_path / "none", [plans[0], ("prod", SavedPlan(leaky, PlanBasis()))])
    assert not (tmp_path / "none").exists()
    for bad in ("", "..", "a/b", "a\\b"):
        with pytest.raises(UserError, match="cannot name a file"):
            write_environment_plans(tmp_path / "bad", [(bad, plans[0][1])])


def test_a_sensitive_item_counts_in_the_digest_by_its_presence_only():
    @dataclass
    class Entry:  # as a KV entry is declared: a value and no config
        value: bytes
        origin: str = ""
        sensitive: bool = False

    def desired(**entries):
        found = Desired()
        found.entries = entries  # as every other kind of item: a dict of them by key
        return found

    plain, moved = desired(k=Entry(b"one", "a.yaml:1:1")), desired(k=Entry(b"one", "a.yaml:9:1"))
    assert resolved_digest(plain) == resolved_digest(moved) != resolved_digest(desired(k=Entry(b"two")))
    assert resolved_digest(desired(k=Entry(b"pw-one", sensitive=True))) == \
        resolved_digest(desired(k=Entry(b"pw-two", sensitive=True))) != resolved_digest(desired())
