"""jsctl db plan / upgrade / revision against a real Postgres (the session's server, a database per test).

Tests that add revisions work on a temporary copy of migrations/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import psycopg
import pytest
from support import REPO

from reconciler.db import plan_database, upgrade_to_head
from reconciler.db.history import head_revision, script_directory
from reconciler.db.new_revision import next_revision_id
from reconciler.db.settings import DatabaseSettings
from reconciler.dev.servers import wait_for

LOCK_KEYS = (0x6A73, 0x6462)
HEAD = head_revision(script_directory(REPO / "migrations"))  # the shipped history's head
NEXT = "t0next"  # the id of revisions the tests add on top of it


@pytest.fixture
def migrations(tmp_path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def sql(url: str, statement: str, *params) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def version(url: str) -> str | None:
    rows = sql(url, "SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None


def columns(url: str, table: str) -> list[str]:
    return [r[0] for r in sql(url, "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                   "ORDER BY ordinal_position", table)]


def edit_schema(migrations: Path, old: str, new: str) -> None:
    path = migrations / "schema.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def write_revision(migrations: Path, rev: str, down: str, body: str, message: str = "change") -> None:
    upgrade = textwrap.indent(textwrap.dedent(body), "    ")
    (migrations / "versions" / f"{rev}_{message.replace(' ', '_')}.py").write_text(
        f'"""{message}"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n{upgrade}\n\n"
        "def downgrade():\n    pass\n")


def db(jsctl, command: str, url: str, dev_url: str, migrations: Path | None = None, *extra: str, **kwargs):
    args = ["db", command, "--database-url", url, "--dev-url", dev_url, *extra]
    if migrations is not None:
        args += ["--migrations", str(migrations)]
    return jsctl(*args, **kwargs)


def test_fresh_database_upgrade_then_plan_is_empty(jsctl, database_url, dev_url):
    result = db(jsctl, "upgrade", database_url, dev_url)
    assert result.returncode == 0, result.stderr
    assert f"upgraded to revision {HEAD}" in result.stdout
    assert version(database_url) == HEAD
    assert set(columns(database_url, "transactions")) >= {"transaction_id", "payload_digest", "stream_time"}
    result = db(jsctl, "plan", database_url, dev_url, None, "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes." in result.stdout


def test_a_drop_is_destructive_only_where_what_it_drops_exists(jsctl, postgres, database_url, dev_url,
                                                               migrations):
    """An empty database loses nothing: the whole history applies without --allow-destructive, drops
    included; once the table holds data the same drop is refused (plan/policy.py)."""
    edit_schema(migrations, "      - {name: detail, type: text, nullable: true}\n", "")
    write_revision(migrations, NEXT, HEAD, 'op.drop_column("rejected_messages", "detail")\n', "drop detail")
    plan = plan_database(DatabaseSettings(database_url), migrations, dev_url=dev_url)
    (drop,) = [c for c in plan.changes if c.address == f"db/revision/{NEXT}"]
    assert drop.details.flags == ["destructive"] and not drop.destructive and not plan.destructive
    result = db(jsctl, "upgrade", database_url, dev_url, migrations)
    assert result.returncode == 0, result.stderr
    assert version(database_url) == NEXT and "detail" not in columns(database_url, "rejected_messages")

    at_head = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")  # a database with data to lose
    upgrade_to_head(DatabaseSettings(at_head), REPO / "migrations")
    live = plan_database(DatabaseSettings(at_head), migrations, dev_url=dev_url)
    assert [c.address for c in live.destructive] == [f"db/revision/{NEXT}"]
    assert db(jsctl, "upgrade", at_head, dev_url, migrations).returncode == 3


def test_manual_alter_table_is_drift_with_exit_2_and_never_corrected(jsctl, database_url, dev_url):
    upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
    sql(database_url, "ALTER TABLE transactions ADD COLUMN extra integer")
    sql(database_url, "DROP INDEX ix_transactions_user_id_day")
    sql(database_url, "ALTER TABLE daily_totals ALTER COLUMN approved_total TYPE numeric(30,6)")
    result = db(jsctl, "plan", database_url, dev_url, None, "--detailed-exitcode")
    assert result.returncode == 2, result.stderr
    for address in ("db/column/transactions.extra", "db/index/ix_transactions_user_id_day",
                    "db/column/daily_totals.approved_total"):
        assert f"! {address}  drift" in result.stdout
    assert "'NUMERIC(30, 6)' (live) -> 'NUMERIC(24, 6)' (expected)" in result.stdout
    plan = plan_database(DatabaseSettings(database_url), REPO / "migrations", dev_url=dev_url)
    assert {c.address: c.action for c in plan.changes}["db/column/transactions.extra"] == "drift"
    assert plan.context["database_revision"] == HEAD and plan.has_changes and not plan.errors
    result = db(jsctl, "upgrade", database_url, dev_url)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("jsctl: error: the database differs from what its migrations make (drift): ")
    assert "db/column/transactions.extra (in the database, not in the migrations at revision" in line
    assert "after the upgrade" not in line  # no upgrade ran
    assert "extra" in columns(database_url, "transactions")  # drift is reported, not "fixed"


def test_new_revision_is_shown_with_sql_and_flags_refused_if_destructive_then_applied(
        jsctl, database_url, dev_url, migrations):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    edit_schema(migrations, "      - {name: detail, type: text, nullable: true}\n", "")
    edit_schema(migrations, "      - {columns: [user_id, day]}\n",
                "      - {columns: [user_id, day]}\n      - {columns: [status]}\n")
    write_revision(migrations, NEXT, HEAD, """\
        op.drop_column("rejected_messages", "detail")
        op.create_index("ix_transactions_status", "transactions", ["status"])
        """, "drop detail")
    result = db(jsctl, "plan", database_url, dev_url, migrations, "--detailed-exitcode")
    assert result.returncode == 2, result.stderr
    out = result.stdout
    assert f"~ db/revision/{NEXT}  upgrade (drop detail)  [destructive, long-lock]" in out
    assert "| ALTER TABLE rejected_messages DROP COLUMN detail;" in out
    assert "| CREATE INDEX ix_transactions_status ON transactions (status);" in out
    assert "destructive: drops column rejected_messages.detail and its data" in out

    refused = db(jsctl, "upgrade", database_url, dev_url, migrations)
    assert refused.returncode == 3
    assert "--allow-destructive" in refused.stderr and "rejected_messages.detail" in refused.stderr
    assert version(database_url) == HEAD and "detail" in columns(database_url, "rejected_messages")

    applied = db(jsctl, "upgrade", database_url, dev_url, migrations, "--allow-destructive")
    assert applied.returncode == 0, applied.stderr
    assert version(database_url) == NEXT and "detail" not in columns(database_url, "rejected_messages")
    assert not plan_database(DatabaseSettings(database_url), migrations, dev_url=dev_url).has_changes


def test_revision_failing_half_way_leaves_the_previous_revision(jsctl, database_url, dev_url, migrations):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    sql(database_url, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES ('u1', 500, 1000)")
    edit_schema(migrations, "      - {name: updated_at, type: timestamptz, default: now()}\n",
                "      - {name: updated_at, type: timestamptz, default: now()}\n"
                "      - {name: note, type: text, nullable: true}\n")
    edit_schema(migrations, "      - {name: daily_limit_positive, expression: daily_limit > 0}\n",
                "      - {name: daily_limit_positive, expression: daily_limit > 0}\n"
                "      - {name: max_amount_small, expression: max_amount < 100}\n")
    write_revision(migrations, NEXT, HEAD, """\
        op.add_column("user_thresholds", sa.Column("note", sa.Text(), nullable=True))
        op.create_check_constraint("ck_user_thresholds_max_amount_small", "user_thresholds", "max_amount < 100")
        """)
    result = db(jsctl, "upgrade", database_url, dev_url, migrations)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"revision {NEXT} failed and was rolled back; the database stays at revision {HEAD}" in line
    assert "ck_user_thresholds_max_amount_small" in line
    assert version(database_url) == HEAD
    assert "note" not in columns(database_url, "user_thresholds")


def _advisory_waiters(url: str) -> int:
    return sql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND classid = %s AND objid = %s", *LOCK_KEYS)[0][0]


def test_two_concurrent_applies_one_waits_both_end_correctly(database_url, dev_url):
    holder = psycopg.connect(database_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEYS)  # both applies will queue behind the test
    command = [sys.executable, "-m", "reconciler", "db", "upgrade", "--database-url", database_url,
               "--dev-url", dev_url]
    procs = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        wait_for(lambda: _advisory_waiters(database_url) == 2, timeout=60, what="both applies to wait")
        holder.close()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            p.kill() if p.poll() is None else None
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum(f"upgraded to revision {HEAD}" in out for out, _ in outputs) == 1
    assert version(database_url) == HEAD


def test_a_held_lock_fails_after_the_timeout_naming_the_holder(jsctl, database_url, dev_url):
    with psycopg.connect(database_url, autocommit=True, application_name="lock-holder-test") as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEYS)
        pid = holder.info.backend_pid
        result = db(jsctl, "upgrade", database_url, dev_url, None, "--lock-timeout", "0.5")
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert "another apply holds the lock" in line and f"pid {pid}" in line and "lock-holder-test" in line
    assert version_table_absent(database_url)


def version_table_absent(url: str) -> bool:
    return not sql(url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'alembic_version'")


def test_db_revision_reaches_a_fixed_point_without_touching_the_target(jsctl, database_url, migrations, tmp_path):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    before = columns(database_url, "user_thresholds")
    edit_schema(migrations, "      - {name: updated_at, type: timestamptz, default: now()}\n",
                "      - {name: updated_at, type: timestamptz, default: clock_timestamp()}\n"
                "      - {name: note, type: \"varchar(200)\", nullable: true}\n")
    edit_schema(migrations, "      - {columns: [user_id, day]}\n",
                "      - {columns: [user_id, day]}\n"
                "      - {columns: [status], where: \"status = 'rejected'\", concurrently: true}\n")
    with (migrations / "schema.yaml").open("a") as schema:
        schema.write(textwrap.indent(textwrap.dedent("""
              - name: user_notes
                columns:
                  - {name: id, type: uuid, default: gen_random_uuid()}
                  - {name: user_id, type: text}
                  - {name: body, type: jsonb}
                primary_key: [id]
                foreign_keys:
                  - {columns: [user_id], references: {table: user_thresholds, columns: [user_id]}, on_delete: cascade}
            """), "  "))
    # No --dev-url: a throwaway embedded Postgres; DATABASE_URL points at the target, which must stay as is.
    cache = tmp_path / "cache"
    result = jsctl("db", "revision", "-m", "notes", "--migrations", str(migrations),
                   env={"DATABASE_URL": database_url, "XDG_CACHE_HOME": str(cache)})
    assert result.returncode == 0, result.stderr
    assert list(cache.glob("jsctl/scratch-postgres-*/data/PG_VERSION"))  # the template later runs copy
    (path,) = [p for p in (migrations / "versions").glob("*notes.py")]
    # alembic.ini's file_template: <date>_<rev>_<slug>, the id continuing the history's numbering
    assert re.fullmatch(rf"\d{{8}}_{int(HEAD) + 1:04d}_notes\.py", path.name)
    assert f"revision: str = '{int(HEAD) + 1:04d}'" in path.read_text()
    code = path.read_text()
    assert "with op.get_context().autocommit_block():" in code and "postgresql_concurrently=True" in code
    assert version(database_url) == HEAD and columns(database_url, "user_thresholds") == before
    assert sql(database_url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'user_notes'") \
        == [(0,)]

    dev = DatabaseSettings(database_url).url.rsplit("/", 1)[0] + "/postgres"
    applied = db(jsctl, "upgrade", database_url, dev, migrations)
    assert applied.returncode == 0, applied.stderr
    assert not plan_database(DatabaseSettings(database_url), migrations, dev_url=dev).has_changes
    again = jsctl("db", "revision", "-m", "nothing", "--migrations", str(migrations), "--dev-url", dev)
    assert again.returncode == 0 and "no revision written" in again.stdout


def test_db_revision_continues_the_numbering_past_revisions_with_other_ids(jsctl, dev_url, migrations):
    """A revision written by `alembic revision` (random hex id) stays in the history; the next id
    still continues the numbered ones."""
    write_revision(migrations, "ab12cd34ef56", HEAD, "pass\n", "by hand")
    edit_schema(migrations, "      - {name: detail, type: text, nullable: true}\n",
                "      - {name: detail, type: text, nullable: true}\n"
                "      - {name: extra, type: integer, nullable: true}\n")
    result = jsctl("db", "revision", "-m", "extra", "--migrations", str(migrations), "--dev-url", dev_url)
    assert result.returncode == 0, result.stderr
    (path,) = (migrations / "versions").glob("*_extra.py")
    expected = f"{int(HEAD) + 1:04d}"
    assert path.name.endswith(f"_{expected}_extra.py")
    assert head_revision(script_directory(migrations)) == expected
    assert script_directory(migrations).get_revision(expected).down_revision == "ab12cd34ef56"


@pytest.mark.parametrize(("ids", "expected"), [((), "0001"), (("0001", "0002"), "0003"), (("0009",), "0010"),
                                               (("9999",), "10000"), (("1e3f0c9a2b7d",), "0001"),
                                               (("0001", "1e3f0c9a2b7d", "0002", "beef"), "0003")])
def test_the_next_revision_id_is_one_more_than_the_highest_number(tmp_path, ids, expected):
    shutil.copytree(REPO / "migrations", tmp_path / "m", ignore=shutil.ignore_patterns("__pycache__", "versions"))
    (tmp_path / "m" / "versions").mkdir()
    down = None
    for rev in ids:
        write_revision(tmp_path / "m", rev, down, "pass\n", f"r{rev}")
        down = rev
    assert next_revision_id(script_directory(tmp_path / "m")) == expected


def test_schema_change_without_a_revision_is_an_error(jsctl, database_url, dev_url, migrations):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    edit_schema(migrations, "      - {name: detail, type: text, nullable: true}\n",
                "      - {name: detail, type: text, nullable: true}\n      - {name: extra, type: integer}\n")
    result = db(jsctl, "plan", database_url, dev_url, migrations, "--detailed-exitcode")
    assert result.returncode == 1
    assert "schema.yaml changed but no revision covers it: run `jsctl db revision -m ...`" in result.stderr
    assert "db/column/rejected_messages.extra" in result.stderr
    assert "No changes." not in result.stdout and "1 error: nothing can be applied" in result.stdout


def test_database_without_alembic_history_needs_adopt(jsctl, database_url, dev_url):
    upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
    sql(database_url, "DROP TABLE alembic_version")
    result = db(jsctl, "upgrade", database_url, dev_url)
    assert result.returncode == 1
    assert "no Alembic history" in result.stderr and "--adopt" in result.stderr
    assert version_table_absent(database_url)

    sql(database_url, "ALTER TABLE transactions ADD COLUMN extra integer")
    mismatch = db(jsctl, "upgrade", database_url, dev_url, None, "--adopt")
    assert mismatch.returncode == 1 and "cannot adopt" in mismatch.stderr and "transactions.extra" in mismatch.stderr
    assert version_table_absent(database_url)

    sql(database_url, "ALTER TABLE transactions DROP COLUMN extra")
    adopted = db(jsctl, "upgrade", database_url, dev_url, None, "--adopt")
    assert adopted.returncode == 0, adopted.stderr
    assert f"adopted: stamped at revision {HEAD}" in adopted.stdout and version(database_url) == HEAD
    assert not plan_database(DatabaseSettings(database_url), REPO / "migrations", dev_url=dev_url).has_changes


def test_connection_failures_are_one_line(jsctl, postgres, database_url, dev_url):
    wrong = database_url.replace(f":{postgres.password}@", ":wrong-password@")
    result = db(jsctl, "plan", wrong, dev_url)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"jsctl: error: cannot connect to Postgres at {DatabaseSettings(wrong).display_url}: "
        "authentication failed (wrong user or password)"]
    assert "wrong-password" not in result.stdout + result.stderr
    from reconciler.dev.servers import free_port

    result = db(jsctl, "upgrade", f"postgresql://u:p@127.0.0.1:{free_port()}/x", dev_url)
    assert result.returncode == 1 and "connection refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_plain_alembic_cli_uses_the_same_environment(database_url):
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, "DATABASE_URL": database_url},
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert version(database_url) == HEAD


def test_ddl_waits_at_most_the_ddl_lock_timeout_then_rolls_back(jsctl, database_url, dev_url, migrations):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    edit_schema(migrations, "      - {name: updated_at, type: timestamptz, default: now()}\n",
                "      - {name: updated_at, type: timestamptz, default: now()}\n"
                "      - {name: note, type: text, nullable: true}\n")
    write_revision(migrations, NEXT, HEAD, """\
        op.add_column("user_thresholds", sa.Column("note", sa.Text(), nullable=True))
        """)
    with psycopg.connect(database_url) as reader:  # an open transaction reading the table blocks ALTER TABLE
        reader.execute("SELECT count(*) FROM user_thresholds")
        result = db(jsctl, "upgrade", database_url, dev_url, migrations, "--ddl-lock-timeout", "0.3")
    assert result.returncode == 1
    assert f"revision {NEXT} failed and was rolled back" in result.stderr and "lock timeout" in result.stderr
    assert version(database_url) == HEAD


def test_unusable_dev_url_is_one_line(jsctl, database_url, postgres):
    dev = postgres.url("no_such_db")
    result = db(jsctl, "plan", database_url, dev)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert 'database "no_such_db" does not exist' in line and postgres.password not in line


def test_importing_the_package_does_not_import_sqlalchemy():
    code = "import sys, reconciler.db, reconciler.cli.db; print('sqlalchemy' in sys.modules, 'alembic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_a_saved_plan_is_applied_as_planned_and_refused_when_a_revision_changed(database_url, dev_url, migrations):
    from reconciler.db import apply_database
    from reconciler.errors import Refused
    from reconciler.plan.model import Plan

    upgrade_to_head(DatabaseSettings(database_url), migrations)
    edit_schema(migrations, "      - {name: updated_at, type: timestamptz, default: now()}\n",
                "      - {name: updated_at, type: timestamptz, default: now()}\n"
                "      - {name: note, type: text, nullable: true}\n")
    write_revision(migrations, NEXT, HEAD, 'op.add_column("user_thresholds", sa.Column("note", sa.Text()))\n')
    saved = json.dumps(plan_database(DatabaseSettings(database_url), migrations, dev_url=dev_url).to_dict())
    plan = Plan.from_dict(json.loads(saved))
    revision_file = next((migrations / "versions").glob(f"{NEXT}_*.py"))
    original = revision_file.read_text()
    revision_file.write_text(original.replace("sa.Text()", "sa.String(20)"))
    with pytest.raises(Refused, match=f"db/revision/{NEXT} is not what the plan showed"):
        apply_database(DatabaseSettings(database_url), migrations, plan)
    assert version(database_url) == HEAD
    revision_file.write_text(original)
    assert apply_database(DatabaseSettings(database_url), migrations, plan) == [f"upgraded to revision {NEXT}"]
    assert version(database_url) == NEXT


def test_without_embedded_postgres_or_dev_url_the_error_names_both_ways(monkeypatch):
    from reconciler.db.scratch import scratch_database
    from reconciler.dev import servers as localservers
    from reconciler.errors import UserError

    def missing() -> Path:
        raise UserError("Postgres binaries not found")

    monkeypatch.setattr(localservers, "postgres_bin_dir", missing)
    with pytest.raises(UserError) as refused, scratch_database(None):
        pass
    assert "--dev-url" in str(refused.value) and "jsctl[embedded]" in str(refused.value)


def test_revision_0003_fills_size_and_digest_of_the_dead_letters_stored_before(database_url):
    from reconciler.db.connect import connect
    from reconciler.db.migrate import upgrade

    with connect(DatabaseSettings(database_url)) as connection:
        upgrade(connection, REPO / "migrations", "0002")
    raw = b"\x00x" * 40_000  # stored whole before 0003: it stays whole
    sql(database_url, "INSERT INTO rejected_messages (stream, stream_sequence, subject, raw, reason) "
                      "VALUES ('S', 1, 's', %s, 'payload_too_large')", raw)
    upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
    assert sql(database_url, "SELECT raw, raw_size, raw_digest FROM rejected_messages") == [
        (raw, 80_000, hashlib.sha256(raw).hexdigest())]
    assert sql(database_url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'rejected_messages' "
                             "AND column_name IN ('raw_size', 'raw_digest') AND is_nullable = 'NO'") == [(2,)]


UPDATED_AT = "      - {name: updated_at, type: timestamptz, default: now()}\n"


def new_revision_files(migrations: Path, before: set[Path]) -> set[Path]:
    return set((migrations / "versions").glob("*.py")) - before


def test_sql_smuggled_through_a_schema_yaml_default_is_refused_before_any_revision(
        jsctl, database_url, dev_url, migrations):
    edit_schema(migrations, UPDATED_AT, UPDATED_AT + '      - {name: n, type: integer, nullable: true, '
                                                     'default: "0; UPDATE user_thresholds SET max_amount = 999999; '
                                                     'SELECT 1"}\n')
    before = set((migrations / "versions").glob("*.py"))
    for result in (jsctl("db", "revision", "-m", "smuggle", "--migrations", str(migrations), "--dev-url", dev_url),
                   db(jsctl, "plan", database_url, dev_url, migrations)):
        assert result.returncode == 1
        assert (f"{migrations / 'schema.yaml'}:13:59: tables[0].columns[4].default: ';' ends the statement: one SQL "
                "expression only (at character 2)") in result.stderr
        assert "internal error" not in result.stderr
    assert not new_revision_files(migrations, before)


def test_a_revision_that_modifies_data_is_destructive_even_when_only_its_python_shows_it(
        jsctl, database_url, dev_url, migrations):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    sql(database_url, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES ('u1', 500, 1000)")
    write_revision(migrations, NEXT, HEAD, 'op.execute("UPDATE user_thresholds SET max_amount = 999999")\n', "raise")
    result = db(jsctl, "plan", database_url, dev_url, migrations)
    assert f"~ db/revision/{NEXT}  upgrade (raise)  [modifies-data]" in result.stdout, result.stderr
    assert "modifies-data: updates rows of user_thresholds" in result.stdout
    refused = db(jsctl, "upgrade", database_url, dev_url, migrations)
    assert refused.returncode == 3
    assert f"upgrade db/revision/{NEXT} (updates rows of user_thresholds)" in refused.stderr

    # The same UPDATE run only online, where the offline SQL of the plan cannot show it.
    write_revision(migrations, NEXT, HEAD, """\
        from alembic import context
        if not context.is_offline_mode():
            op.get_bind().exec_driver_sql("UPDATE user_thresholds SET max_amount = 999999")
        """, "raise")
    result = db(jsctl, "plan", database_url, dev_url, migrations)
    assert f"~ db/revision/{NEXT}  upgrade (raise)  [modifies-data]" in result.stdout, result.stderr
    assert "modifies-data: updates rows of user_thresholds (in the revision file, not in the SQL above)" \
        in result.stdout
    assert db(jsctl, "upgrade", database_url, dev_url, migrations).returncode == 3
    assert sql(database_url, "SELECT max_amount FROM user_thresholds") == [(500,)] and version(database_url) == HEAD
    applied = db(jsctl, "upgrade", database_url, dev_url, migrations, "--allow-destructive")
    assert applied.returncode == 0, applied.stderr
    assert sql(database_url, "SELECT max_amount FROM user_thresholds") == [(999999,)]


def test_lossy_type_changes_need_allow_destructive_and_take_days_in_utc(jsctl, database_url, dev_url, migrations):
    upgrade_to_head(DatabaseSettings(database_url), migrations)
    sql(database_url, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit, updated_at) "
                      "VALUES ('u1', 123.456789, 1000, '2024-01-01 23:30:00+00')")
    # UTC+14: in the database's own time zone that instant is already 2 January
    sql(database_url, f"ALTER DATABASE {database_url.rsplit('/', 1)[1]} SET timezone TO 'Pacific/Kiritimati'")
    edit_schema(migrations, 'type: "numeric(19,6)", comment: Largest', 'type: "numeric(19,2)", comment: Largest')
    edit_schema(migrations, UPDATED_AT, "      - {name: updated_at, type: date, default: CURRENT_DATE}\n")
    written = jsctl("db", "revision", "-m", "lossy", "--migrations", str(migrations), "--dev-url", dev_url)
    assert written.returncode == 0, written.stderr

    refused = db(jsctl, "upgrade", database_url, dev_url, migrations)
    assert refused.returncode == 3
    assert "[lossy, rewrite]" in refused.stdout
    assert "rounds from 6 to 2 decimal places: user_thresholds.max_amount" in refused.stderr
    assert "drops the time of day: user_thresholds.updated_at" in refused.stderr
    assert sql(database_url, "SELECT max_amount::text FROM user_thresholds") == [("123.456789",)]

    applied = db(jsctl, "upgrade", database_url, dev_url, migrations, "--allow-destructive")
    assert applied.returncode == 0, applied.stderr
    assert sql(database_url, "SELECT max_amount::text, updated_at::text FROM user_thresholds") == [
        ("123.46", "2024-01-01")]


def test_a_type_change_postgres_cannot_make_is_a_clear_error_naming_the_using_it_needs(
        jsctl, database_url, dev_url, migrations):
    edit_schema(migrations, UPDATED_AT, UPDATED_AT + "      - {name: n, type: integer, default: 0}\n")
    write_revision(migrations, NEXT, HEAD, """\
        op.add_column("user_thresholds", sa.Column("n", sa.Integer(), server_default=sa.text("0"), nullable=False))
        """)
    edit_schema(migrations, "{name: n, type: integer, default: 0}", "{name: n, type: boolean, default: false}")
    before = set((migrations / "versions").glob("*.py"))
    refused = jsctl("db", "revision", "-m", "to boolean", "--migrations", str(migrations), "--dev-url", dev_url)
    assert refused.returncode == 1
    assert (f"{migrations / 'schema.yaml'}:13:25: tables[0].columns[4].type: user_thresholds.n cannot change from "
            "integer to boolean by itself (Postgres has no automatic cast): the revision needs op.alter_column("
            "'user_thresholds', 'n', type_=..., postgresql_using=\"n::boolean\")") in refused.stderr
    assert not new_revision_files(migrations, before)
    uncovered = db(jsctl, "plan", database_url, dev_url, migrations)  # the comparison SELECT 0 = false cannot run
    assert uncovered.returncode == 1 and "no revision covers it" in uncovered.stderr
    assert "db/column/user_thresholds.n (type: INTEGER -> BOOLEAN; default: 0 -> false)" in uncovered.stderr

    write_revision(migrations, "t1bool", NEXT, """\
        op.alter_column("user_thresholds", "n", type_=sa.Boolean())
        """)
    plain = db(jsctl, "plan", database_url, dev_url, migrations)
    assert plain.returncode == 1
    assert ("t1bool_change.py: revision t1bool: user_thresholds.n cannot change from integer to BOOLEAN by itself"
            in plain.stderr) and 'postgresql_using="n::boolean"' in plain.stderr
    write_revision(migrations, "t1bool", NEXT, """\
        op.alter_column("user_thresholds", "n", server_default=None)
        op.alter_column("user_thresholds", "n", type_=sa.Boolean(), postgresql_using="n::boolean",
                        existing_autoincrement=False)
        op.alter_column("user_thresholds", "n", server_default=sa.text("false"))
        """)
    for result in (db(jsctl, "plan", database_url, dev_url, migrations),
                   db(jsctl, "upgrade", database_url, dev_url, migrations, "--allow-destructive")):
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""  # no Alembic UserWarning about autoincrement
    assert "[data-dependent, lossy, rewrite]" in result.stdout


def test_types_are_held_to_the_servers_limits_offline_and_postgres_15_scales_work(
        jsctl, database_url, dev_url, migrations):
    column = "      - {name: approx, type: \"%s\", nullable: true}\n"
    edit_schema(migrations, UPDATED_AT, UPDATED_AT + column % "varchar(99999999999)")
    before = set((migrations / "versions").glob("*.py"))
    refused = jsctl("db", "revision", "-m", "big", "--migrations", str(migrations), "--dev-url", dev_url)
    assert refused.returncode == 1
    assert ("tables[0].columns[4].type: varchar length 99999999999 is out of range: Postgres allows 1 to 10485760"
            in refused.stderr) and not new_revision_files(migrations, before)

    edit_schema(migrations, column % "varchar(99999999999)", column % "numeric(5,-2)"
                + "      - {name: tiny, type: \"numeric(3,5)\", nullable: true}\n")
    written = jsctl("db", "revision", "-m", "scales", "--migrations", str(migrations), "--dev-url", dev_url)
    assert written.returncode == 0, written.stderr
    applied = db(jsctl, "upgrade", database_url, dev_url, migrations)
    assert applied.returncode == 0, applied.stderr
    sql(database_url, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit, approx, tiny) "
                      "VALUES ('u1', 1, 1, 12345.6, 0.001234)")
    assert sql(database_url, "SELECT approx::text, tiny::text FROM user_thresholds") == [("12300", "0.00123")]
    again = db(jsctl, "plan", database_url, dev_url, migrations, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
