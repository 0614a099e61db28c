"""SQL read by the Postgres parser: schema.yaml fragments, data changes, revision files (pure)."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.db.pgsql import Expression, data_changes, parse_expression, written_tables
from reconciler.db.revision_source import source_data_changes


@pytest.mark.parametrize(("text", "columns"), [
    ("now()", ()), ("0", ()), ("'pending'", ()), ("'a;b'", ()), ("'--not a comment'", ()), ("$$x;y$$", ()),
    ("CURRENT_TIMESTAMP", ()), ("gen_random_uuid()", ()), ("'{}'::jsonb", ()), ("-1.5", ()),
    ("amount > 0", ("amount",)), ("status IN ('a', 'b')", ("status",)), ("t.amount > 0", ("amount",)),
    ("char_length(code) < 12", ("code",)),
])
def test_one_expression_is_accepted(text, columns):
    assert parse_expression(text) == Expression(columns)


@pytest.mark.parametrize(("text", "why"), [
    ("0; UPDATE user_thresholds SET max_amount = 999999; SELECT 1", "';' ends the statement"),
    ("now();", "';' ends the statement"),
    ("0 -- the rest of the line is gone", "comments are not allowed"),
    ("0 /* c */", "comments are not allowed"),
    ("amount > 0) OR (true", "syntax error"),
    ("'unterminated", "unterminated quoted string"),
    ("1 FROM t", "one SQL expression only"),
    ("1 UNION SELECT 2", "one SQL expression only"),
    ("1, 2", "one SQL expression only"),
    ("1 AS x", "no alias"),
    ("*", "'*'"),
    ("(SELECT max(amount) FROM t)", "subqueries are not allowed"),
    ("EXISTS (SELECT 1)", "subqueries are not allowed"),
    ("", "empty"),
    ("1\0; DROP TABLE t", "NUL"),
])
def test_anything_but_one_expression_is_refused(text, why):
    problem = parse_expression(text)
    assert isinstance(problem, str) and why in problem


def test_a_default_refers_to_no_column_and_says_how_to_write_a_string():
    assert parse_expression("pending", columns_allowed=False) == (
        "a default cannot refer to a column ('pending'); a string value needs quotes: \"'pending'\"")
    assert parse_expression("'pending'", columns_allowed=False) == Expression(())


def test_the_position_of_a_problem_is_counted_in_the_fragment():
    assert parse_expression("1 + 2 -- x").endswith("(at character 7)")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc01 ;'\"$-/*()=<>,.:\\\n\t\0")) | st.characters(), max_size=40))
def test_any_text_is_one_expression_or_a_reason(text):
    assert isinstance(parse_expression(text), (Expression, str))
    assert isinstance(parse_expression(text, columns_allowed=False), (Expression, str))


@pytest.mark.parametrize(("sql", "changes"), [
    ("UPDATE t SET a = 1", ["updates rows of t"]),
    ("INSERT INTO t VALUES (1)", ["inserts rows into t"]),
    ("DELETE FROM t", ["deletes rows from t"]),
    ("TRUNCATE a, b", ["empties a, b"]),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", ["merges rows into t"]),
    ("COPY t FROM STDIN", ["copies rows into t"]),
    ("COPY t TO STDOUT", []),
    ("WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", ["deletes rows from t"]),
    ("CALL p()", ["runs procedural code that may change rows (jsctl cannot read it)"]),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ DELETE FROM t RETURNING 1 $$", []),  # the body is text
    ("ALTER TABLE t ADD COLUMN c int DEFAULT 0", []),
    ("this is not SQL", ["cannot be parsed, so it may change rows"]),
])
def test_data_changes(sql, changes):
    assert [change.what for change in data_changes(sql)] == changes


def test_alembic_bookkeeping_is_recognized_by_the_tables_a_statement_writes():
    assert written_tables("UPDATE alembic_version SET version_num='2' WHERE alembic_version.version_num = '1'") \
        == {"alembic_version"}
    assert written_tables("WITH d AS (DELETE FROM t RETURNING 1) UPDATE alembic_version SET version_num = '2'") \
        == {"alembic_version", "t"}
    assert written_tables("DELETE FROM t WHERE 'alembic_version' <> ''") == {"t"}
    assert written_tables("DO $$BEGIN END$$") is None


def test_revision_files_are_read_for_data_changes_outside_downgrade(tmp_path):
    path = tmp_path / "r.py"
    path.write_text(textwrap.dedent('''\
        """Docstring: UPDATE nothing."""
        import sqlalchemy as sa
        from alembic import context, op
        from sqlalchemy import delete as remove

        BODY = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ DELETE FROM t RETURNING 1 $$"


        def upgrade():
            t = sa.table("t", sa.column("a"))
            if not context.is_offline_mode():
                op.get_bind().exec_driver_sql(f"UPDATE {t.name} SET a = 1")
            op.bulk_insert(t, [{"a": 1}])
            op.execute(t.update().values(a=2))
            op.execute(remove(t))
            {}.update({"a": 1})
            op.execute(BODY)


        def downgrade():
            op.execute("DELETE FROM t")
        '''))
    assert [(c.line, c.what) for c in source_data_changes(path)] == [
        (12, "updates rows of _"), (13, "inserts rows (bulk_insert)"), (14, "builds an SQL UPDATE"),
        (15, "builds an SQL DELETE")]
    assert source_data_changes(tmp_path / "missing.py") == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_revision_file_text_gives_a_list(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("rev") / "r.py"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert isinstance(source_data_changes(path), list)


def test_positions_count_characters_not_bytes():
    assert parse_expression("'éé' || 1;").endswith("(at character 10)")
    assert parse_expression("'éé' || )").endswith("(at character 9)")
