"""Two projects on one account, through the real `jsctl` on a real server: each project's jsctl.yaml
names its owner; one never prunes, changes or silently takes over what the other owns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitops_helpers import js_request
from support import run_jsctl, stream_names, write_manifests

ORDERS = {"name": "ORDERS", "subjects": ["orders.>"]}
PAYMENTS = {"name": "PAYMENTS", "subjects": ["payments.>"]}


def reader(stream: str, name: str) -> dict:
    return {"stream": stream, "durable_name": name, "ack_policy": "explicit"}


class Project:
    """A checkout of one project: its manifests and its jsctl.yaml, jsctl run in it."""

    def __init__(self, root: Path, url: str, owner: str | None):
        self.root, self.url = root, url
        root.mkdir()
        if owner:
            (root / "jsctl.yaml").write_text(f"project: {owner}\n")
        self.declare([], [])

    def declare(self, streams: list[dict], consumers: list[dict]) -> None:
        write_manifests(self.root, streams, consumers)

    def __call__(self, *args: str):
        return run_jsctl(*args, "--server", self.url, cwd=self.root)

    def plan(self, *args: str) -> dict:
        done = self("plan", "-o", "json", *args)
        assert done.returncode == 0, done.stderr
        return {c["address"]: c for c in json.loads(done.stdout)["changes"]}


@pytest.fixture
def projects(js_account, tmp_path):
    """Project A, which owns ORDERS and two consumers on it, and project B, with PAYMENTS, applied."""
    a, b = Project(tmp_path / "a", js_account, "A"), Project(tmp_path / "b", js_account, "B")
    a.declare([ORDERS], [reader("ORDERS", "A_READS"), reader("ORDERS", "SHARED")])
    b.declare([PAYMENTS], [reader("PAYMENTS", "P")])
    for project in (a, b):
        done = project("apply", "--yes")
        assert done.returncode == 0, done.stderr
    return a, b


def metadata(url: str, address: str) -> dict:
    kind, *names = address.split("/")
    subject = "STREAM.INFO." + names[0] if kind == "stream" else "CONSUMER.INFO." + ".".join(names)
    return js_request(url, subject)["config"].get("metadata", {})


def owner(url: str, address: str) -> str | None:
    return metadata(url, address).get("io.jsctl.owner")


def test_another_projects_streams_are_theirs_never_prune_candidates(projects, js_account):
    a, b = projects
    assert owner(js_account, "stream/ORDERS") == owner(js_account, "consumer/ORDERS/A_READS") == "A"
    assert owner(js_account, "stream/PAYMENTS") == "B"
    for prune in ((), ("--prune",)):
        theirs = {address: (c["action"], c["details"].get("owner"), c["reason"])
                  for address, c in b.plan(*prune).items()}
        assert theirs == {
            "stream/ORDERS": ("unmanaged", "A", "owned by project A, not in these manifests: left alone"),
            "consumer/ORDERS/A_READS": ("unmanaged", "A", "owned by project A, not in these manifests: left alone"),
            "consumer/ORDERS/SHARED": ("unmanaged", "A", "owned by project A, not in these manifests: left alone")}
    assert "# stream/ORDERS  unmanaged (owned by project A" in b("plan").stdout

    # B drops its own stream: --prune deletes it, and nothing of A's.
    b.declare([], [])
    pruned = b("apply", "--yes", "--prune", "--allow-destructive")
    assert pruned.returncode == 0, pruned.stderr
    assert "- stream/PAYMENTS  delete" in pruned.stdout and "delete stream/ORDERS" not in pruned.stdout
    assert stream_names(js_account) == ["ORDERS"]
    assert js_request(js_account, "STREAM.INFO.ORDERS")["state"]["consumer_count"] == 2
    assert a("plan", "--detailed-exitcode").returncode == 0  # A's view: nothing changed


def test_declaring_another_projects_stream_is_an_error_until_taken_over(projects, js_account):
    a, b = projects
    b.declare([PAYMENTS, {**ORDERS, "max_msgs": 100}], [reader("PAYMENTS", "P"), reader("ORDERS", "SHARED")])
    for command in (("plan",), ("apply", "--yes")):
        refused = b(*command)
        assert refused.returncode == 1
        assert ("stream/ORDERS: owned by project A, declared by project B: remove it from these manifests, or take it "
                "over with --from-owner A on plan and apply") in refused.stderr
        assert "consumer/ORDERS/SHARED: owned by project A" in refused.stderr
    assert js_request(js_account, "STREAM.INFO.ORDERS")["config"]["max_msgs"] == -1  # nothing applied
    assert owner(js_account, "stream/ORDERS") == "A"

    # Explicit: B takes over what it declares, through a saved plan (the plan's --from-owner decides the apply).
    made = b("plan", "--from-owner", "A", "--out", "plan.json", "-o", "markdown")
    assert made.returncode == 0, made.stderr
    assert "io.jsctl" not in made.stdout  # ownership is not a field change
    saved = json.loads((b.root / "plan.json").read_text())["plan"]
    assert saved["context"]["options"] == {"prune": False, "owner": "B", "from_owner": "A"}
    changes = {c["address"]: c for c in saved["changes"]}
    assert (changes["stream/ORDERS"]["action"], changes["stream/ORDERS"]["details"]) == (
        "update", {"adopts": True, "owner": "A"})
    assert [d["path"] for d in changes["stream/ORDERS"]["diff"]] == ["max_msgs"]
    assert (changes["consumer/ORDERS/SHARED"]["action"], changes["consumer/ORDERS/SHARED"]["details"]) == (
        "adopt", {"owner": "A"})
    assert changes["consumer/ORDERS/A_READS"]["action"] == "unmanaged"
    done = b("apply", "plan.json")
    assert done.returncode == 0, done.stderr

    # The stream and the consumer B declares are B's; the consumer B does not declare stays A's.
    assert owner(js_account, "stream/ORDERS") == owner(js_account, "consumer/ORDERS/SHARED") == "B"
    assert owner(js_account, "consumer/ORDERS/A_READS") == "A"
    assert js_request(js_account, "STREAM.INFO.ORDERS")["config"]["max_msgs"] == 100
    assert b("plan", "--detailed-exitcode").returncode == 0
    now = a("plan")
    assert now.returncode == 1 and "stream/ORDERS: owned by project B, declared by project A" in now.stderr


def test_prune_without_an_owner_is_refused_in_one_line(projects, js_account, tmp_path):
    nobody = Project(tmp_path / "nobody", js_account, None)
    for command in (("plan", "--prune"), ("apply", "--yes", "--prune", "--allow-destructive")):
        refused = nobody(*command)
        assert refused.returncode == 1
        assert refused.stderr.splitlines() == [
            "jsctl: error: --prune deletes only what this project owns, and no owner is set: set it with "
            "--owner NAME, JSCTL_OWNER, or `project: NAME` in jsctl.yaml"]
    assert stream_names(js_account) == ["ORDERS", "PAYMENTS"]
    # Without an owner, other projects' resources are still theirs: declaring one is an error.
    nobody.declare([ORDERS], [])
    declared = nobody("plan")
    assert declared.returncode == 1 and "stream/ORDERS: owned by project A, and no owner is set" in declared.stderr


def test_the_owner_comes_from_the_flag_then_the_environment_then_jsctl_yaml(js_account, tmp_path):
    project = Project(tmp_path / "p", js_account, "FILE")
    project.declare([ORDERS], [])

    def planned_owner(*args: str, env: dict | None = None) -> str:
        done = run_jsctl("plan", "-o", "json", "--server", js_account, *args, env=env, cwd=project.root)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["context"]["options"]["owner"]

    assert planned_owner() == "FILE"
    assert planned_owner(env={"JSCTL_OWNER": "ENV"}) == "ENV"
    assert planned_owner("--owner", "FLAG", env={"JSCTL_OWNER": "ENV"}) == "FLAG"
    (tmp_path / "elsewhere.yaml").write_text("project: OTHER_FILE\n")
    assert planned_owner("--project", str(tmp_path / "elsewhere.yaml")) == "OTHER_FILE"
    done = run_jsctl("apply", "--yes", "--server", js_account, env={"JSCTL_OWNER": "ENV"}, cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert metadata(js_account, "stream/ORDERS") == {"io.jsctl.managed": "true", "io.jsctl.owner": "ENV"} | {
        k: v for k, v in metadata(js_account, "stream/ORDERS").items() if k.startswith("_nats.")}


def test_resources_marked_before_owners_get_one_only_when_declared(js_account, tmp_path):
    """What a jsctl before owners left (io.jsctl.managed alone): the project that declares it records itself
    on its next apply; what no project declares is left alone by --prune, and shown so."""
    legacy = {"io.jsctl.managed": "true"}
    js_request(js_account, "STREAM.CREATE.ORDERS", {**ORDERS, "metadata": legacy})
    js_request(js_account, "STREAM.CREATE.OLD", {"name": "OLD", "subjects": ["old.>"], "metadata": legacy})
    js_request(js_account, "CONSUMER.CREATE.OLD.R", {"stream_name": "OLD", "config": {
        **{k: v for k, v in reader("OLD", "R").items() if k != "stream"}, "metadata": legacy}})
    b = Project(tmp_path / "b", js_account, "B")
    b.declare([ORDERS], [])
    changes = b.plan("--prune")
    assert changes["stream/ORDERS"]["action"] == "adopt" and changes["stream/ORDERS"]["diff"] == []
    assert "created by jsctl before owners were recorded: apply records project B" in changes["stream/ORDERS"]["reason"]
    for address in ("stream/OLD", "consumer/OLD/R"):
        assert changes[address]["action"] == "unmanaged" and "owner" not in changes[address]["details"]
        assert changes[address]["reason"].startswith("created by jsctl before owners were recorded, not in the "
                                                     "manifests: left alone")
    done = b("apply", "--yes", "--prune", "--allow-destructive")
    assert done.returncode == 0, done.stderr
    assert owner(js_account, "stream/ORDERS") == "B"
    assert stream_names(js_account) == ["OLD", "ORDERS"]
    assert owner(js_account, "stream/OLD") is None and owner(js_account, "consumer/OLD/R") is None
    assert b("plan", "--prune", "--detailed-exitcode").returncode == 0
