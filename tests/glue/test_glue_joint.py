"""One plan, one apply, one exit code for JetStream and Postgres together, through the real `jsctl`
on a real nats-server and a real Postgres (a fresh account and a fresh database per test).

The project is a temporary directory holding copies of the repo's streams.yaml, consumers.yaml
and migrations/, so every command runs with its defaults (./streams.yaml, ./migrations).
"""

from __future__ import annotations

import asyncio
import json

from glue_helpers import ADD_NOTE, DROP_DETAIL, HEAD, HISTORY, NEXT, SEED, add_revision, revision, sql
from support import stream_names

from reconciler.db import upgrade_to_head
from reconciler.db.settings import DatabaseSettings
from reconciler.errors import EXIT_CHANGES, EXIT_REFUSED
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.lock import ApplyLock
from reconciler.jetstream.settings import NatsSettings


def test_seed_plan_apply_then_empty_then_drift(run, js_account, database_url):
    planned = run("plan", "--detailed-exitcode")
    assert planned.returncode == EXIT_CHANGES, planned.stderr
    out = planned.stdout
    for address in SEED:
        assert f"+ {address}  create" in out
    assert f"Database {DatabaseSettings(database_url).display_url}: at revision (none), head {HEAD}" in out
    for script in HISTORY:
        assert f"~ db/revision/{script.revision}  upgrade ({script.doc})" in out
    assert "| CREATE TABLE user_thresholds (" in out
    assert out.index("stream/USER_TXN") < out.index("db/revision/")  # JetStream first, then the database
    assert f"Plan: 3 to create, {len(HISTORY)} to upgrade." in out

    as_json = json.loads(run("plan", "-o", "json").stdout)
    kinds = {c["address"]: c for c in as_json["changes"]}
    assert list(kinds) == [*SEED, *(f"db/revision/{script.revision}" for script in HISTORY)]
    upgrade = kinds[f"db/revision/{HISTORY[0].revision}"]
    assert upgrade["action"] == "upgrade" and "CREATE TABLE transactions" in upgrade["details"]["sql"]
    context = as_json["context"]
    assert context["nats"]["server_version"] and context["database_revision"] is None
    assert context["database_head"] == HEAD and context["database_schema"].startswith("sha256:")
    assert as_json["summary"] == {"create": 3, "upgrade": len(HISTORY)}

    applied = run("apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"upgraded to revision {HEAD}" in applied.stdout
    assert f"Apply complete: database: {len(HISTORY)} step(s), JetStream: 3 request(s); verified." in applied.stdout
    assert revision(database_url) == HEAD and stream_names(js_account) == ["USER_TXN"]

    empty = run("plan", "--detailed-exitcode")
    assert empty.returncode == 0, empty.stdout + empty.stderr
    assert "No changes." in empty.stdout and f"at revision {HEAD}, head {HEAD}" in empty.stdout

    sql(database_url, "ALTER TABLE transactions ADD COLUMN extra integer")
    drift = run("plan", "--detailed-exitcode", "-o", "json")
    assert drift.returncode == EXIT_CHANGES, drift.stderr
    assert [(c["address"], c["action"]) for c in json.loads(drift.stdout)["changes"]] == [
        ("db/column/transactions.extra", "drift")]


def test_destructive_revision_refused_and_nothing_applied_on_either_side(run, js_account, database_url, project):
    upgrade_to_head(DatabaseSettings(database_url), project / "migrations")
    add_revision(project, *DROP_DETAIL)
    refused = run("apply", "--yes")
    assert refused.returncode == EXIT_REFUSED, refused.stdout + refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert line == ("jsctl: error: destructive changes need --allow-destructive: upgrade db/revision/t1next "
                    "(drops column rejected_messages.detail and its data)")
    assert revision(database_url) == HEAD and stream_names(js_account) == []

    applied = run("apply", "--yes", "--allow-destructive")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert revision(database_url) == NEXT and stream_names(js_account) == ["USER_TXN"]


def test_the_apply_lock_covers_the_database(run, js_account, database_url):
    async def with_lock_held():
        nc = await connect_nats(NatsSettings(url=js_account))
        try:
            async with ApplyLock(nc, operation="test holder"):
                return await asyncio.to_thread(run, "apply", "--yes", "--lock-timeout", "0.3")
        finally:
            await nc.close()

    refused = asyncio.run(with_lock_held())
    assert refused.returncode == EXIT_REFUSED and "test holder" in refused.stderr
    assert revision(database_url) is None and stream_names(js_account) == []


def test_saved_plan_covers_the_database(run, js_account, database_url, postgres, project):
    made = run("plan", "--out", "plan.json")
    assert made.returncode == 0, made.stderr
    text = (project / "plan.json").read_text()
    assert postgres.password not in text + made.stdout + made.stderr
    basis = json.loads(text)["basis"]
    assert basis["database"]["revision"] is None and basis["database"]["schema"].startswith("sha256:")
    assert set(basis["manifests"]) == {"migrations/schema.yaml", "streams.yaml", "consumers.yaml",
                                       *(f"migrations/versions/{script.path.rsplit('/', 1)[1]}" for script in HISTORY)}
    applied = run("apply", "plan.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert revision(database_url) == HEAD and stream_names(js_account) == ["USER_TXN"]

    # Someone else migrates the database after the plan was made.
    add_revision(project, *ADD_NOTE)
    assert run("plan", "--out", "plan.json").returncode == 0
    assert run("db", "upgrade").returncode == 0
    stale = run("apply", "plan.json")
    assert stale.returncode == EXIT_REFUSED
    assert f"stale: the database revision is {NEXT}, the plan was made at {HEAD}" in stale.stderr

    # Someone changes the schema by hand after the plan was made (same revision).
    sql(database_url, "CREATE TABLE IF NOT EXISTS scratch_notes (id integer)")
    made = run("plan", "--out", "plan.json")
    assert made.returncode == 0 and "! db/table/scratch_notes  drift" in made.stdout
    sql(database_url, "ALTER TABLE scratch_notes ADD COLUMN body text")
    stale = run("apply", "plan.json")
    assert stale.returncode == EXIT_REFUSED and "the database schema changed since the plan" in stale.stderr
