"""`jsctl up`: apply (as `apply --yes`, refusing destructive changes) then the validator worker,
through the real `jsctl` on a real nats-server and Postgres."""

from __future__ import annotations

import json

from glue_helpers import DROP_DETAIL, HEAD, NEXT, add_revision, revision, sql
from support import stream_names

from reconciler.errors import EXIT_REFUSED


def test_up_applies_then_runs_the_worker_and_refuses_destructive_changes(run, js_account, database_url, project):
    first = run("up", "--until-idle", "--log-format", "json")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Apply complete" in first.stdout
    assert revision(database_url) == HEAD and stream_names(js_account) == ["USER_TXN"]
    assert json.loads(first.stderr.splitlines()[0])["msg"] == "started"

    assert run("publish", "--count", "5").returncode == 0
    second = run("up", "--until-idle", "--log-format", "json")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "No changes." in second.stdout and "Apply complete" not in second.stdout
    assert sql(database_url, "SELECT count(*) FROM transactions") == [(5,)]

    add_revision(project, *DROP_DETAIL)
    refused = run("up", "--until-idle", "--log-format", "json")
    assert refused.returncode == EXIT_REFUSED
    (line,) = refused.stderr.strip().splitlines()  # refused before the worker started: no worker log
    assert "destructive changes need --allow-destructive" in line and f"db/revision/{NEXT}" in line
    assert revision(database_url) == HEAD

    allowed = run("up", "--until-idle", "--allow-destructive")
    assert "Apply complete" in allowed.stdout and revision(database_url) == NEXT
    # The worker writes the dropped column (dead letters' detail): it refuses to start, in one line,
    # rather than fail every batch with a bad event in it.
    assert allowed.returncode == 1
    assert allowed.stderr.strip().splitlines()[-1].endswith(
        'lacks the worker\'s schema (column "detail" of relation "rejected_messages" does not exist): '
        "run `jsctl apply` with this jsctl's migrations first")
