"""Column types: limits per server version (pure) and the conversion table, checked against Postgres."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.db.types import conversion, parse_type, type_problem


@pytest.mark.parametrize(("text", "parsed"), [
    ("NUMERIC(19, 6)", ("numeric", (19, 6))), ("numeric(5,-2)", ("numeric", (5, -2))),
    ("character varying(50)", ("varchar", (50,))), ("VARCHAR(20)", ("varchar", (20,))),
    ("timestamp with time zone", ("timestamptz", ())), ("timestamp(3) with time zone", ("timestamptz", (3,))),
    ("TIMESTAMP WITHOUT TIME ZONE", ("timestamp", ())), ("double precision", ("double precision", ())),
    ("int8", ("bigint", ())), ("BOOLEAN", ("boolean", ())),
])
def test_parse_type(text, parsed):
    assert parse_type(text) == parsed


@pytest.mark.parametrize(("text", "version", "problem"), [
    ("varchar(99999999999)", None, "varchar length 99999999999 is out of range: Postgres allows 1 to 10485760 "
                                   "(or use text)"),
    ("varchar(10485760)", None, None),
    ("numeric(1001,2)", None, "numeric precision 1001 is out of range: Postgres allows 1 to 1000"),
    ("numeric(1000,2)", None, None),
    ("numeric(5,-2)", None, None), ("numeric(5,-2)", 15, None), ("numeric(3,5)", 16, None),
    ("numeric(5,-1001)", 16, "numeric scale -1001 is out of range: Postgres allows -1000 to 1000"),
    ("numeric(5,-2)", 14, "numeric scale -2 is out of range: PostgreSQL 14 allows 0 to the precision (5); "
                          "15 and later allow -1000 to 1000"),
    ("numeric(3,5)", 14, "numeric scale 5 is out of range: PostgreSQL 14 allows 0 to the precision (3); "
                         "15 and later allow -1000 to 1000"),
    ("numeric(5,2)", 14, None), ("text", 14, None),
])
def test_type_limits_follow_the_server_version(text, version, problem):
    assert type_problem(text, version) == problem


@given(st.text(max_size=30), st.one_of(st.none(), st.integers(min_value=9, max_value=20)))
def test_any_type_text_parses_and_checks_without_raising(text, version):
    parse_type(text)
    assert type_problem(text, version) is None or isinstance(type_problem(text, version), str)


@pytest.mark.parametrize(("old", "new", "lossy"), [
    ("numeric(19,6)", "NUMERIC(19, 2)", "rounds from 6 to 2 decimal places"),
    ("timestamp with time zone", "DATE", "drops the time of day"),
    ("double precision", "REAL", "keeps only the precision of real (about 6 significant digits)"),
    ("numeric(19,6)", "INTEGER", "rounds fractions to whole numbers"),
    ("timestamp with time zone", "TIMESTAMP(0) WITH TIME ZONE", "rounds to 0 fractional digits of a second"),
    ("character varying(50)", "VARCHAR(20)", None),  # too long values make it fail, nothing is cut
    ("numeric(19,6)", "NUMERIC(10, 6)", None),  # too large values make it fail
    ("integer", "BIGINT", None),
    ("money", "NUMERIC(10, 2)", "jsctl cannot tell whether converting money to numeric keeps every value"),
])
def test_lossy_conversions_name_what_is_lost(old, new, lossy):
    assert conversion(old, new).lossy == lossy


def test_a_using_expression_is_always_reviewed_as_lossy():
    assert conversion("character varying(50)", "VARCHAR(20)", using=True).lossy.startswith("USING computes")
    assert conversion("timestamp with time zone", "DATE", using=True).lossy == "drops the time of day"


def test_session_dependent_conversions_name_the_setting():
    assert conversion("timestamp with time zone", "DATE").session == "TimeZone"
    assert conversion("date", "TIMESTAMP WITH TIME ZONE").session == "TimeZone"
    assert conversion("integer", "BIGINT").session is None


# One value per type, chosen so that a lossy conversion shows (digits past a float's precision,
# a time of day, six decimals) and a narrowing one fails.
SAMPLES = {
    "smallint": "12345", "integer": "123456789", "bigint": "9007199254740993", "numeric(19,6)": "123.456789",
    "real": "1.5", "double precision": "1.23456789012345", "text": "'abcdefghijklmnopqrstuvwxyz'",
    "varchar(30)": "'abcdefghijklmnopqrstuvwxyz'", "boolean": "true", "date": "'2024-01-01'",
    "timestamp with time zone": "'2024-01-01 23:30:00.123456+00'",
    "timestamp without time zone": "'2024-01-01 23:30:00.123456'",
    "uuid": "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "jsonb": "'{\"a\": 1}'", "json": "'{\"a\": 1, \"a\": 2}'",
    "bytea": "'\\x01'",
}
TARGETS = [*SAMPLES, "varchar(5)", "numeric(19,2)", "numeric(30,6)", "numeric", "timestamp(0) with time zone"]


def _try_alter(conn: psycopg.Connection, old: str, new: str) -> tuple[str, bool, bool | None]:
    """('ok' | sqlstate, table rewritten, value kept through a cast back) for ALTER ... TYPE new."""
    with conn.transaction(force_rollback=True):
        conn.execute(f"CREATE TABLE conv (c {old})")
        conn.execute(f"INSERT INTO conv VALUES ({SAMPLES[old]})")
        before = conn.execute("SELECT relfilenode FROM pg_class WHERE relname = 'conv'").fetchone()[0]
        try:
            with conn.transaction():
                conn.execute(f"ALTER TABLE conv ALTER COLUMN c TYPE {new}")
        except psycopg.Error as exc:
            return exc.sqlstate, False, None
        after = conn.execute("SELECT relfilenode FROM pg_class WHERE relname = 'conv'").fetchone()[0]
        try:
            with conn.transaction():
                kept = conn.execute(f"SELECT c::{old}::text = ({SAMPLES[old]})::{old}::text FROM conv").fetchone()[0]
        except psycopg.Error:
            kept = None  # no cast back: nothing to compare
        return "ok", before != after, kept


def test_the_conversion_table_matches_postgres(database_url):
    """What types.py predicts, against what Postgres does with each pair of types."""
    wrong = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for old, new in itertools.product(SAMPLES, TARGETS):
            if parse_type(old) == parse_type(new):
                continue
            predicted = conversion(old, new)
            outcome, rewritten, kept = _try_alter(conn, old, new)
            if outcome == "42804":  # datatype_mismatch: "cannot be cast automatically"
                ok = not predicted.automatic
            elif outcome != "ok":  # the value does not fit
                ok = predicted.automatic and predicted.may_fail
            else:
                ok = predicted.automatic and predicted.rewrites == rewritten and (kept is not False or
                                                                                  predicted.lossy is not None)
            if not ok:
                wrong.append(f"{old} -> {new}: postgres {outcome}, rewritten {rewritten}, kept {kept}; "
                             f"predicted {predicted}")
    assert not wrong, "\n".join(wrong)
