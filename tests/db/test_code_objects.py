"""Functions, triggers and views are part of the compared schema (db/code_objects.py), on a real Postgres:
a database missing the worker's jsctl_record_batch is drift, is not adopted, and apply says so; a
function changed by hand shows what changed; objects of an extension are not the migrations' business."""

from __future__ import annotations

import importlib.util
import json
import shutil
import uuid
from pathlib import Path

import pytest
from support import REPO
from test_database import sql

from reconciler.db import plan_database, upgrade_to_head
from reconciler.db.code_objects import observe_objects
from reconciler.db.connect import connect
from reconciler.db.fingerprint import schema_fingerprint
from reconciler.db.history import head_revision, script_directory
from reconciler.db.settings import DatabaseSettings
from reconciler.errors import EXIT_CHANGES

HEAD = head_revision(script_directory(REPO / "migrations"))


def _revision_0002():
    path = next((REPO / "migrations" / "versions").glob("*_0002_*.py"))
    spec = importlib.util.spec_from_file_location("revision_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORD_BATCH = _revision_0002().RECORD_BATCH  # the function as the migrations create it
TYPES = ("text[], text[], text[], numeric[], text[], bigint[], timestamp with time zone[], numeric, numeric")
FUNCTION = f"db/function/jsctl_record_batch({TYPES})"
DROP = f"DROP FUNCTION jsctl_record_batch({TYPES})"


@pytest.fixture
def at_head(database_url) -> str:
    upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
    return database_url


def db(jsctl, command: str, url: str, dev_url: str, *extra: str):
    return jsctl("db", command, "--database-url", url, "--dev-url", dev_url, *extra)


def test_a_missing_function_is_drift_that_apply_reports_and_recreating_it_is_clean(jsctl, at_head, dev_url):
    sql(at_head, DROP)
    plan = db(jsctl, "plan", at_head, dev_url, "--detailed-exitcode")
    assert plan.returncode == EXIT_CHANGES, plan.stdout + plan.stderr
    assert f"! {FUNCTION}  drift (missing from the database)" in plan.stdout
    as_json = json.loads(db(jsctl, "plan", at_head, dev_url, "-o", "json").stdout)
    assert [(c["address"], c["action"]) for c in as_json["changes"]] == [(FUNCTION, "drift")]
    assert FUNCTION in as_json["context"]["database_objects"]

    upgraded = db(jsctl, "upgrade", at_head, dev_url)
    assert upgraded.returncode == 1
    assert f"the database differs from what its migrations make (drift): {FUNCTION} (missing from the database)" \
        in upgraded.stderr

    sql(at_head, RECORD_BATCH)
    clean = db(jsctl, "plan", at_head, dev_url, "--detailed-exitcode")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No changes." in clean.stdout


def test_a_function_changed_by_hand_shows_what_changed(at_head, dev_url):
    sql(at_head, RECORD_BATCH.replace("SET enable_seqscan = off\n", "").replace("'duplicate'", "'dup'"))
    plan = plan_database(DatabaseSettings(at_head), REPO / "migrations", dev_url=dev_url)
    (drift,) = plan.changes
    assert (drift.address, drift.action, drift.reason) == (
        FUNCTION, "drift", f"config, source differ from the migrations at revision {HEAD}")
    config, source = drift.diff
    assert (config.path, config.before, config.after) == ("config", [], ["enable_seqscan=off"])
    assert source.path == "source" and source.before != source.after and source.after.startswith("sha256:")


def test_adopt_is_refused_while_a_function_the_migrations_create_is_missing(jsctl, at_head, dev_url):
    sql(at_head, "DROP TABLE alembic_version")
    sql(at_head, DROP)
    refused = db(jsctl, "upgrade", at_head, dev_url, "--adopt")
    assert refused.returncode == 1
    assert f"cannot adopt: the database differs: {FUNCTION} (missing from the database)" in refused.stderr
    assert not sql(at_head, "SELECT 1 FROM pg_tables WHERE tablename = 'alembic_version'")

    sql(at_head, RECORD_BATCH)
    adopted = db(jsctl, "upgrade", at_head, dev_url, "--adopt")
    assert adopted.returncode == 0, adopted.stderr
    assert f"adopted: stamped at revision {HEAD}" in adopted.stdout


@pytest.fixture
def with_trigger_and_view(tmp_path, database_url) -> Path:
    """A copy of migrations/ with a revision that adds a trigger (and its function) and a view, applied."""
    migrations = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "t5objects.py").write_text(f'''"""a trigger and a view"""
from alembic import op

revision = "t5objects"
down_revision = {HEAD!r}
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); "
               "RETURN NEW; END $$")
    op.execute("CREATE TRIGGER touch BEFORE UPDATE OF max_amount, daily_limit ON user_thresholds "
               "FOR EACH ROW EXECUTE FUNCTION touch()")
    op.execute("CREATE VIEW approved AS SELECT transaction_id, amount FROM transactions WHERE status = 'approved'")


def downgrade():
    pass
''')
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    return migrations


def test_triggers_and_views_changed_by_hand_are_drift_and_extensions_are_left_out(
        jsctl, database_url, dev_url, with_trigger_and_view):
    def drift() -> dict[str, object]:
        plan = plan_database(DatabaseSettings(database_url), with_trigger_and_view, dev_url=dev_url)
        assert not plan.errors
        return {c.address: (c.reason, [(f.path, f.before, f.after) for f in c.diff]) for c in plan.changes}

    assert drift() == {}
    sql(database_url, "CREATE EXTENSION vector")  # dozens of functions in public, all the extension's
    assert drift() == {}

    sql(database_url, "ALTER TABLE user_thresholds DISABLE TRIGGER touch")
    sql(database_url, "CREATE OR REPLACE VIEW approved AS SELECT transaction_id, amount, user_id FROM transactions "
                      "WHERE status = 'approved'")
    sql(database_url, "CREATE FUNCTION helper() RETURNS integer LANGUAGE sql AS 'SELECT 1'")
    sql(database_url, "DROP TRIGGER touch ON user_thresholds; CREATE TRIGGER touch BEFORE UPDATE ON user_thresholds "
                      "FOR EACH ROW EXECUTE FUNCTION touch(); ALTER TABLE user_thresholds DISABLE TRIGGER touch")
    expected = "the migrations at revision t5objects"
    assert drift() == {
        "db/function/helper()": (f"in the database, not in {expected}", []),
        "db/trigger/user_thresholds.touch": (f"columns, enabled differ from {expected}", [
            ("columns", [], ["max_amount", "daily_limit"]), ("enabled", "disabled", "enabled")]),
        "db/view/approved": (f"columns differs from {expected}", [
            ("columns", ["transaction_id text", "amount numeric(19,6)", "user_id text"],
             ["transaction_id text", "amount numeric(19,6)"])]),
    }
    plan = db(jsctl, "plan", database_url, dev_url, "--migrations", str(with_trigger_and_view), "--detailed-exitcode")
    assert plan.returncode == EXIT_CHANGES
    assert "! db/trigger/user_thresholds.touch  drift (columns, enabled differ from" in plan.stdout
    assert "enabled: 'disabled' (live) -> 'enabled' (expected)" in plan.stdout

    sql(database_url, "DROP VIEW approved; DROP TRIGGER touch ON user_thresholds")
    assert set(drift()) == {"db/function/helper()", "db/trigger/user_thresholds.touch", "db/view/approved"}
    assert all(reason == "missing from the database" for address, (reason, _) in drift().items()
               if address != "db/function/helper()")


def test_what_is_compared_reads_the_same_on_every_server_and_the_fingerprint_sees_the_rest(
        database_url, with_trigger_and_view):
    """Deparsed text (a view's query) differs between server versions: comparisons with the scratch
    server leave it out; the saved plans' fingerprint, one server against itself, includes it."""
    settings = DatabaseSettings(database_url)
    with connect(settings) as connection:
        facts = observe_objects(connection)
        before = schema_fingerprint(connection)
    assert all("definition" not in fact for fact in facts.values())
    assert facts[FUNCTION]["source"].startswith("sha256:") and facts[FUNCTION]["config"] == ["enable_seqscan=off"]

    sql(database_url, "CREATE OR REPLACE VIEW approved AS SELECT transaction_id, amount FROM transactions "
                      "WHERE status = 'rejected'")
    with connect(settings) as connection:
        assert observe_objects(connection) == facts  # same columns: not drift (docs/database.md says so)
        assert schema_fingerprint(connection) != before  # but a saved plan made before is stale


def test_a_function_only_in_an_empty_database_is_drift_against_an_empty_database(jsctl, postgres, dev_url):
    url = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
    sql(url, "CREATE FUNCTION helper() RETURNS integer LANGUAGE sql AS 'SELECT 1'")
    plan = db(jsctl, "plan", url, dev_url)
    assert "! db/function/helper()  drift (in the database, not in an empty database)" in plan.stdout, plan.stderr
