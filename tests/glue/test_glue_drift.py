"""Database drift does not hold back JetStream: apply does the JetStream half (and any pending revision),
then reports the drift (exit 1, as a failed verification); `--only jetstream|database` acts on one half.
Real `jsctl`, real nats-server and Postgres."""

from __future__ import annotations

import json

from glue_helpers import ADD_NOTE, HEAD, NEXT, SEED, add_revision, revision, sql
from support import stream_names

from reconciler.db import upgrade_to_head
from reconciler.db.settings import DatabaseSettings
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR

DRIFT = "db/column/transactions.extra (in the database, not in the migrations at revision"
UNREACHABLE_NATS = "nats://127.0.0.1:1"


def test_apply_does_jetstream_then_reports_the_database_drift(run, js_account, database_url, project):
    upgrade_to_head(DatabaseSettings(database_url), project / "migrations")
    sql(database_url, "ALTER TABLE transactions ADD COLUMN extra integer")
    plan = run("plan", "--detailed-exitcode")
    assert plan.returncode == EXIT_CHANGES and f"! {DRIFT.split(' (')[0]}  drift" in plan.stdout

    applied = run("apply", "--yes")
    assert applied.returncode == EXIT_ERROR, applied.stdout + applied.stderr
    assert stream_names(js_account) == ["USER_TXN"]
    assert "Applied: JetStream: 3 request(s); verified, but the database drifted (below)." in applied.stdout
    (line,) = applied.stderr.strip().splitlines()
    assert line.startswith("jsctl: error: the database differs from what its migrations make (drift): " + DRIFT)
    assert line.endswith("jsctl never corrects drift: undo it by hand, or write a revision that covers it")

    # A pending revision still runs; the drift is then "after the upgrade".
    add_revision(project, *ADD_NOTE)
    upgraded = run("apply", "--yes")
    assert upgraded.returncode == EXIT_ERROR and revision(database_url) == NEXT
    assert "Applied: database: 1 step(s); verified, but the database drifted (below)." in upgraded.stdout
    assert "after the upgrade the database still differs from what its migrations make" in upgraded.stderr
    assert "extra" in {name for (name,) in sql(database_url, "SELECT column_name FROM information_schema.columns "
                                                             "WHERE table_name = 'transactions'")}


def test_only_jetstream_leaves_the_database_alone(run, js_account, database_url, project):
    upgrade_to_head(DatabaseSettings(database_url), project / "migrations")
    sql(database_url, "ALTER TABLE transactions ADD COLUMN extra integer")
    add_revision(project, *ADD_NOTE)
    plan = run("plan", "--only", "jetstream", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    as_json = json.loads(plan.stdout)
    assert [c["address"] for c in as_json["changes"]] == SEED and "database" not in as_json["context"]
    assert as_json["context"]["options"] == {"prune": False, "only": "jetstream"}

    applied = run("apply", "--yes", "--only", "jetstream")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: JetStream: 3 request(s); verified." in applied.stdout
    assert stream_names(js_account) == ["USER_TXN"] and revision(database_url) == HEAD
    assert run("plan", "--only", "jetstream", "--detailed-exitcode").returncode == 0


def test_only_database_needs_no_nats_and_a_saved_plan_keeps_its_half(run, js_account, database_url, project):
    plan = run("plan", "--only", "database", "--server", UNREACHABLE_NATS, "--out", "plan.json")
    assert plan.returncode == 0, plan.stderr
    assert "stream/" not in plan.stdout and f"~ db/revision/{HEAD}" in plan.stdout

    applied = run("apply", "plan.json")  # NATS_URL reachable, but the plan is the database's alone
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert revision(database_url) == HEAD and stream_names(js_account) == []

    missing = run("plan", "--only", "database", "--database-url", "")
    assert missing.returncode == EXIT_ERROR
    assert missing.stderr.strip() == ("jsctl: error: --only database: no database configured: pass --database-url "
                                      "or set DATABASE_URL")


def test_up_does_not_start_a_worker_that_would_fail_on_a_missing_function(run, js_account, database_url, project):
    upgrade_to_head(DatabaseSettings(database_url), project / "migrations")
    sql(database_url, "DROP FUNCTION jsctl_record_batch(text[], text[], text[], numeric[], text[], bigint[], "
                      "timestamptz[], numeric, numeric)")
    up = run("up", "--until-idle", "--log-format", "json")
    assert up.returncode == EXIT_ERROR, up.stdout + up.stderr
    assert stream_names(js_account) == ["USER_TXN"]  # JetStream applied all the same
    (line,) = up.stderr.strip().splitlines()  # the error, and no worker log: it never started
    assert "(drift): db/function/jsctl_record_batch(text[], " in line and "(missing from the database)" in line
