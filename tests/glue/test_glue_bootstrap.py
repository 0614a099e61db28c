"""A new environment bootstraps: `jsctl apply` / `jsctl up` on an empty database apply the whole history
without --allow-destructive, even where an old revision drops a column or changes rows, because an
empty database has nothing to lose (plan/policy.py); a database that has the tables is still refused.
Real `jsctl`, real nats-server and Postgres."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

from glue_helpers import HEAD, revision, sql
from support import REPO, stream_names

from reconciler.db import upgrade_to_head
from reconciler.db.settings import DatabaseSettings
from reconciler.errors import EXIT_REFUSED

# An old history of the kind a long-lived project has: a table made, a column of it dropped later,
# rows changed by later revisions, some in ways only the revision's Python shows.
HISTORY = {
    "t2notes": ("notes table", """\
        op.create_table("notes", sa.Column("id", sa.Integer(), nullable=False),
                        sa.Column("old", sa.Text(), nullable=True), sa.Column("body", sa.Text(), nullable=True),
                        sa.PrimaryKeyConstraint("id", name="pk_notes"))
        """),
    "t3dropold": ("drop notes.old", 'op.drop_column("notes", "old")\n'),
    "t4rows": ("fill rows", """\
        from alembic import context
        op.execute("UPDATE user_thresholds SET max_amount = max_amount * 2")
        op.execute("DO $$ BEGIN UPDATE notes SET body = 'checked'; END $$")
        if not context.is_offline_mode():
            op.get_bind().exec_driver_sql("UPDATE user_thresholds SET daily_limit = daily_limit * 2")
        op.bulk_insert(sa.table("notes", sa.column("id", sa.Integer()), sa.column("body", sa.Text())),
                       [{"id": 1, "body": "first"}])
        """),
}
LAST = list(HISTORY)[-1]
NOTES = """
  - name: notes
    columns:
      - {name: id, type: integer}
      - {name: body, type: text, nullable: true}
    primary_key: [id]
"""


def extend_history(project: Path) -> None:
    """HISTORY on top of the shipped head, and schema.yaml with the notes table it ends with."""
    down = HEAD
    for rev, (message, body) in HISTORY.items():
        (project / "migrations" / "versions" / f"{rev}.py").write_text(
            f'"""{message}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{textwrap.indent(textwrap.dedent(body), '    ')}\n\ndef downgrade():\n    pass\n")
        down = rev
    with (project / "migrations" / "schema.yaml").open("a") as schema:
        schema.write(NOTES)


def test_apply_on_an_empty_database_runs_the_whole_history_without_allow_destructive(
        run, js_account, database_url, postgres, project):
    extend_history(project)
    plan = run("plan")
    assert plan.returncode == 0, plan.stderr
    assert "[destructive]" in plan.stdout and "modifies-data" in plan.stdout  # the flags say what each does
    applied = run("apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert revision(database_url) == LAST and stream_names(js_account) == ["USER_TXN"]
    assert sql(database_url, "SELECT id, body FROM notes") == [(1, "first")]

    # The same history where the tables exist (here: at the shipped head) loses what they hold.
    at_head = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(DatabaseSettings(at_head), REPO / "migrations")
    refused = run("apply", "--yes", "--database-url", at_head)
    assert refused.returncode == EXIT_REFUSED, refused.stdout + refused.stderr
    for what in ("updates rows of user_thresholds", "procedural code",
                 "updates rows of user_thresholds (in the revision file, not in the SQL above)"):
        assert what in refused.stderr
    assert "db/revision/t3dropold" not in refused.stderr  # notes comes from a pending revision: nothing to lose
    assert revision(at_head) == HEAD

    # Empty public schema, but a table elsewhere: code jsctl cannot read (the DO block) could reach it.
    shared = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
    sql(shared, "CREATE SCHEMA other; CREATE TABLE other.keep (id integer)")
    refused = run("apply", "--yes", "--database-url", shared)
    assert refused.returncode == EXIT_REFUSED, refused.stdout + refused.stderr
    assert "upgrade db/revision/t4rows (" in refused.stderr and "procedural code" in refused.stderr
    assert "db/revision/t3dropold" not in refused.stderr and revision(shared) is None


def test_up_bootstraps_an_empty_database_without_allow_destructive(run, js_account, database_url, project):
    extend_history(project)
    up = run("up", "--until-idle")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "Apply complete" in up.stdout and revision(database_url) == LAST
    assert stream_names(js_account) == ["USER_TXN"]
