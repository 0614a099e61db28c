"""`jsctl destroy` on a real server: it deletes what this project owns and nothing else (another
project's resources, a stream made by hand), shows the plan first, and refuses without
--allow-destructive, without confirmation, and without an owner."""

from __future__ import annotations

import json

from gitops_helpers import events, js_request, start_holder
from support import write_manifests

from reconciler.dev.servers import wait_for
from reconciler.errors import EXIT_ERROR, EXIT_REFUSED


def names(url: str) -> list[str]:
    return js_request(url, "STREAM.NAMES")["streams"]


def test_destroy_deletes_only_what_this_project_owns(js_account, project, jsctl, tmp_path):
    url = ["--server", js_account]
    assert jsctl("apply", "--yes", *url, cwd=project).returncode == 0  # this project: user-txn (jsctl.yaml)
    theirs = write_manifests(tmp_path / "other", [{"name": "OTHER", "subjects": ["other.>"]}],
                             [{"stream": "OTHER", "durable_name": "READER"}])
    assert jsctl("apply", "--yes", "--owner", "other", *theirs, *url, cwd=project).returncode == 0
    js_request(js_account, "STREAM.CREATE.BY_HAND", {"name": "BY_HAND", "subjects": ["hand.>"]})
    ours = {"stream/USER_TXN", *(f"consumer/USER_TXN/{name}"
                                 for name in js_request(js_account, "CONSUMER.NAMES.USER_TXN")["consumers"])}
    assert len(ours) > 1

    dry = jsctl("destroy", "--dry-run", "-o", "json", *url, cwd=project)
    assert dry.returncode == 0, dry.stderr
    planned = {c["address"]: c["action"] for c in json.loads(dry.stdout)["changes"]}
    assert {a for a, action in planned.items() if action == "delete"} == ours
    assert planned["stream/OTHER"] == planned["stream/BY_HAND"] == "unmanaged"

    refused = jsctl("destroy", "--yes", *url, cwd=project)
    assert refused.returncode == EXIT_REFUSED and "destructive changes need --allow-destructive" in refused.stderr
    assert "- stream/USER_TXN  delete (owned by project user-txn: destroyed)" in refused.stdout  # the plan first
    unconfirmed = jsctl("destroy", "--allow-destructive", *url, cwd=project, input="")
    assert unconfirmed.returncode == EXIT_REFUSED and "pass --yes to destroy" in unconfirmed.stderr
    assert "USER_TXN" in names(js_account)

    done = jsctl("destroy", "--allow-destructive", "--yes", *url, cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"Destroy complete: JetStream: {len(ours)} request(s); verified.\n")
    assert names(js_account) == ["BY_HAND", "KV_jsctl_locks", "OTHER"]
    assert js_request(js_account, "CONSUMER.NAMES.OTHER")["consumers"] == ["READER"]
    again = jsctl("destroy", "--allow-destructive", "--yes", *url, cwd=project)
    assert again.returncode == 0 and "No changes." in again.stdout


def test_destroy_refuses_without_an_owner_and_output_without_dry_run(js_account, jsctl, tmp_path):
    js_request(js_account, "STREAM.CREATE.BY_HAND", {"name": "BY_HAND", "subjects": ["hand.>"]})
    unowned = jsctl("destroy", "--allow-destructive", "--yes", "--server", js_account, cwd=tmp_path)
    assert unowned.returncode == EXIT_ERROR
    assert unowned.stderr == ("jsctl: error: jsctl destroy deletes only what this project owns, and no owner is set: "
                              "set it with --owner NAME, JSCTL_OWNER, or `project: NAME` in jsctl.yaml\n")
    formatted = jsctl("destroy", "-o", "json", "--owner", "app", "--server", js_account, cwd=tmp_path)
    assert formatted.returncode == EXIT_ERROR and "-o json is for --dry-run" in formatted.stderr
    assert "BY_HAND" in names(js_account)


def test_destroy_waits_for_the_apply_lock_then_refuses(js_account, project, jsctl, tmp_path):
    url = ["--server", js_account]
    assert jsctl("apply", "--yes", *url, cwd=project).returncode == 0
    log = tmp_path / "log"
    holder = start_holder(js_account, log, hold=60)
    try:
        wait_for(lambda: events(log), timeout=20, what="the holder to take the lock")
        refused = jsctl("destroy", "--yes", "--allow-destructive", "--lock-timeout", "0.5", *url, cwd=project)
        assert refused.returncode == EXIT_REFUSED and "waiting up to 0.5s for the apply lock" in refused.stderr
        assert "USER_TXN" in names(js_account)  # nothing deleted
    finally:
        holder.kill()
        holder.wait(10)
        jsctl("force-unlock", events(log)[0]["id"], *url)
