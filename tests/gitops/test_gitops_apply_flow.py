"""Saved plans, the lock around apply, adoption and prune, through the real `jsctl` on a real server."""

from __future__ import annotations

import json

from gitops_helpers import events, js_request, start_holder

from reconciler.dev.servers import wait_for
from reconciler.errors import EXIT_REFUSED

SEED_STREAM = {"name": "USER_TXN", "subjects": ["USER_TXN.*"], "max_age": 365 * 86400 * 10**9,
               "duplicate_window": 86400 * 10**9, "allow_rollup_hdrs": True, "allow_direct": True, "storage": "file"}


def test_saved_plan_applies_then_refuses_when_stale(js_account, project, jsctl):
    url = ["--server", js_account]
    made = jsctl("plan", "--out", "plan.json", *url, cwd=project)
    assert made.returncode == 0, made.stderr
    saved = json.loads((project / "plan.json").read_text())
    assert saved["kind"] == "jsctl-saved-plan" and saved["basis"]["manifests"].keys() == {
        "streams.yaml", "consumers.yaml"}
    done = jsctl("apply", "plan.json", *url, cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Apply complete" in done.stdout

    # Manifest edited after planning.
    assert jsctl("plan", "--out", "plan.json", *url, cwd=project).returncode == 0
    streams = project / "streams.yaml"
    streams.write_text(streams.read_text().replace("max_msgs: -1 ", "max_msgs: 1000 "))
    stale = jsctl("apply", "plan.json", *url, cwd=project)
    assert stale.returncode == EXIT_REFUSED
    assert "stale: manifest file streams.yaml was edited since the plan" in stale.stderr

    # Live stream edited by hand after planning.
    assert jsctl("plan", "--out", "plan.json", *url, cwd=project).returncode == 0
    live = js_request(js_account, "STREAM.INFO.USER_TXN")["config"]
    js_request(js_account, "STREAM.UPDATE.USER_TXN", {**live, "max_msgs": 5000})
    stale = jsctl("apply", "plan.json", *url, cwd=project)
    assert stale.returncode == EXIT_REFUSED
    assert "live resource stream/USER_TXN was changed since the plan" in stale.stderr
    assert js_request(js_account, "STREAM.INFO.USER_TXN")["config"]["max_msgs"] == 5000  # untouched


def test_plan_file_holds_no_secret(nats_server_factory, project, jsctl):
    server = nats_server_factory('authorization { user: app, password: "Sup3r-s3cret-pw" }')
    url = server.url.replace("nats://", "nats://app:Sup3r-s3cret-pw@")
    made = jsctl("plan", "--out", "plan.json", "--server", url, cwd=project)
    assert made.returncode == 0, made.stderr
    assert "Sup3r-s3cret-pw" not in (project / "plan.json").read_text() + made.stdout + made.stderr


def test_apply_waits_for_the_lock_then_refuses(js_account, project, jsctl, tmp_path):
    log = tmp_path / "log"
    holder = start_holder(js_account, log, hold=60)
    try:
        wait_for(lambda: events(log), timeout=20, what="the holder to take the lock")
        refused = jsctl("apply", "--yes", "--lock-timeout", "0.5", "--server", js_account, cwd=project)
        assert refused.returncode == EXIT_REFUSED
        assert "waiting up to 0.5s for the apply lock" in refused.stderr
        assert f"jsctl force-unlock {events(log)[0]['id']}" in refused.stderr
        assert "USER_TXN" not in json.dumps(js_request(js_account, "STREAM.NAMES"))  # nothing applied
    finally:
        holder.kill()
        holder.wait(10)
        jsctl("force-unlock", events(log)[0]["id"], "--server", js_account)
    # The lock bucket is jsctl's own: never in a plan.
    plan = jsctl("plan", "-o", "json", "--server", js_account, cwd=project)
    assert "jsctl_locks" not in plan.stdout


def test_adopt_then_prune_only_managed(js_account, project, jsctl):
    url = ["--server", js_account]
    js_request(js_account, "STREAM.CREATE.USER_TXN", SEED_STREAM)  # made by hand, as the manifest says
    js_request(js_account, "STREAM.CREATE.BY_HAND", {"name": "BY_HAND", "subjects": ["hand.>"]})
    plan = json.loads(jsctl("plan", "-o", "json", *url, cwd=project).stdout)
    actions = {c["address"]: c["action"] for c in plan["changes"]}
    assert actions["stream/USER_TXN"] == "adopt" and actions["stream/BY_HAND"] == "unmanaged"
    assert actions["consumer/USER_TXN/GRP_MAKER"] == "create"
    assert jsctl("apply", "--yes", *url, cwd=project).returncode == 0
    metadata = js_request(js_account, "STREAM.INFO.USER_TXN")["config"]["metadata"]
    assert metadata["io.jsctl.managed"] == "true" and metadata["io.jsctl.owner"] == "user-txn"  # jsctl.yaml's project
    assert jsctl("plan", "--detailed-exitcode", *url, cwd=project).returncode == 0

    # USER_TXN leaves the manifests: --prune deletes it (this project's now), never BY_HAND.
    (project / "streams.yaml").write_text("streams: []\n")
    (project / "consumers.yaml").write_text("consumers: []\n")
    pruned = jsctl("apply", "--yes", "--prune", "--allow-destructive", *url, cwd=project)
    assert pruned.returncode == 0, pruned.stderr
    assert js_request(js_account, "STREAM.NAMES")["streams"] == ["BY_HAND", "KV_jsctl_locks"]
