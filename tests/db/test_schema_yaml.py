"""schema.yaml: loading, JSON Schema and semantic checks, positions in messages (no database)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support import REPO

from reconciler.db.metadata import build_metadata
from reconciler.db.schema_yaml import load_schema
from reconciler.errors import ManifestError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_schema(path)
    return info.value.lines


def test_shipped_schema_has_the_worker_tables_with_named_constraints():
    spec = load_schema(REPO / "migrations")
    assert [t.name for t in spec.tables] == ["user_thresholds", "transactions", "daily_totals", "rejected_messages"]
    metadata = build_metadata(spec)
    for table in metadata.tables.values():
        assert all(c.name for c in table.constraints), table.name
        assert all(ix.name for ix in table.indexes), table.name
    transactions = metadata.tables["transactions"]
    assert {ix.name for ix in transactions.indexes} == {"ix_transactions_user_id_day"}
    assert str(transactions.c.amount.type) == "NUMERIC(19, 6)"
    assert not transactions.c.amount.nullable and transactions.c.reason.nullable
    assert "uq_rejected_messages_stream_stream_sequence_reason" in {
        c.name for c in metadata.tables["rejected_messages"].constraints}


def test_every_error_is_reported_at_once_with_file_line_column_and_path(tmp_path):
    path = write(tmp_path, """\
        tables:
          - name: a
            columns:
              - {name: id, type: bigint}
              - {name: id, type: text}
            primary_key: [id]
            indexes:
              - {columns: [nope]}
            foreign_keys:
              - {columns: [id], references: {table: ghost, columns: [id]}}
          - name: b
            columns:
              - {name: id, type: bigint}
            unique:
              - {name: pk_a, columns: [id]}
        """)
    lines = errors_of(path)
    assert f"{path}:5:16: tables[0].columns[1].name: duplicate column 'id' in table 'a'" in lines
    assert f"{path}:8:20: tables[0].indexes[0].columns[0]: unknown column 'nope' in table 'a'" in lines
    assert any(line.startswith(f"{path}:10:45: tables[0].foreign_keys[0].references.table: foreign key to "
                               "unknown table 'ghost'") for line in lines)
    assert any("tables[1].unique[0]: duplicate name 'pk_a'" in line for line in lines)
    assert len(lines) == 4


def test_structural_errors_name_the_field(tmp_path):
    path = write(tmp_path, """\
        tables:
          - name: a
            colums: []
            columns:
              - {name: id, type: money}
              - {name: n, type: "numeric(10,2)", nullable: maybe}
        """)
    lines = errors_of(path)
    assert f"{path}:3:5: tables[0].colums: unknown field 'colums' (did you mean 'columns'?)" in lines
    assert any(line.startswith(f"{path}:5:26: tables[0].columns[0].type: unsupported type 'money'") for line in lines)
    assert f"{path}:6:52: tables[0].columns[1].nullable: expected true or false, got a string" in lines


def test_duplicate_keys_and_bad_yaml_are_errors(tmp_path):
    path = write(tmp_path, "tables: []\ntables: []\n")
    assert errors_of(path) == [f"{path}:2:1: tables: duplicate key 'tables' (first written on line 1)"]
    path = write(tmp_path, "tables: [\n")
    assert errors_of(path)[0].startswith(f"{path}:2:1: (document): invalid YAML")


def test_generated_names_longer_than_postgres_allows_are_rejected(tmp_path):
    long = "c" * 40
    path = write(tmp_path, f"""\
        tables:
          - name: a_rather_long_table_name
            columns:
              - {{name: {long}, type: text}}
            indexes:
              - {{columns: [{long}]}}
        """)
    (line,) = errors_of(path)
    assert "tables[0].indexes[0]: name 'ix_a_rather_long_table_name_ccc" in line
    assert "longer than 63 characters" in line


def test_types_defaults_identity_and_partial_unique_index(tmp_path):
    path = write(tmp_path, """\
        naming_convention: {ix: "idx_%(table_name)s_%(column_0_N_name)s"}
        tables:
          - name: t
            comment: hello
            columns:
              - {name: id, type: integer, identity: true}
              - {name: code, type: "varchar(12)", default: "'x'"}
              - {name: ok, type: boolean, default: true}
              - {name: doc, type: jsonb, nullable: true, comment: free form}
              - {name: ref, type: uuid, nullable: true}
            primary_key: [id]
            checks:
              - {name: code_short, expression: char_length(code) < 12}
            indexes:
              - {columns: [ref], unique: true, where: ref IS NOT NULL, concurrently: true}
        """)
    table = build_metadata(load_schema(path)).tables["t"]
    assert table.comment == "hello"
    assert table.c.ok.server_default.arg.text == "true"
    assert table.c.id.identity is not None
    (index,) = table.indexes
    assert index.name == "idx_t_ref" and index.unique
    assert index.dialect_options["postgresql"]["concurrently"] is True
    assert {c.name for c in table.constraints} >= {"pk_t", "ck_t_code_short"}


def test_sql_fragments_hold_one_expression_each_or_are_refused_at_their_place(tmp_path):
    path = write(tmp_path, """\
        tables:
          - name: t
            columns:
              - {name: n, type: integer, nullable: true, default: "0; UPDATE u SET max_amount = 999999; SELECT 1"}
              - {name: m, type: integer, default: "0 -- the rest of the line"}
              - {name: s, type: text, default: pending}
              - {name: ok, type: text, default: "'a;b'"}
            checks:
              - {name: a, expression: "n > 0) OR (true"}
              - {name: b, expression: "nope > 0"}
              - {name: c, expression: "n > 0 /* ; DELETE FROM t */"}
              - {name: d, expression: "char_length(ok) < 12 AND ok <> 'x;y'"}
            indexes:
              - {columns: [n], where: "n > 0; DELETE FROM t"}
              - {columns: [m], where: "(SELECT true)"}
              - {columns: [s], where: "s <> 'it''s; fine'"}
        """)
    assert errors_of(path) == [
        f"{path}:4:59: tables[0].columns[0].default: ';' ends the statement: one SQL expression only (at character 2)",
        f"{path}:5:43: tables[0].columns[1].default: comments are not allowed (they could hide the rest of the "
        "statement) (at character 3)",
        f"{path}:6:40: tables[0].columns[2].default: a default cannot refer to a column ('pending'); a string value "
        "needs quotes: \"'pending'\"",
        f"{path}:9:31: tables[0].checks[0].expression: not an SQL expression: syntax error at or near \")\" "
        "(at character 6)",
        f"{path}:10:31: tables[0].checks[1].expression: unknown column 'nope' in table 't'",
        f"{path}:11:31: tables[0].checks[2].expression: comments are not allowed (they could hide the rest of the "
        "statement) (at character 7)",
        f"{path}:14:31: tables[0].indexes[0].where: ';' ends the statement: one SQL expression only (at character 6)",
        f"{path}:15:31: tables[0].indexes[1].where: subqueries are not allowed here (Postgres refuses them in "
        "defaults, checks and index predicates)",
    ]


def test_types_beyond_postgres_limits_are_refused_offline_by_the_target_version(tmp_path):
    path = write(tmp_path, """\
        tables:
          - name: t
            columns:
              - {name: a, type: "varchar(99999999999)"}
              - {name: b, type: "numeric(1001,2)"}
              - {name: c, type: "numeric(5,-2)"}
              - {name: d, type: "numeric(3, 5)"}
        """)
    assert errors_of(path) == [
        f"{path}:4:25: tables[0].columns[0].type: varchar length 99999999999 is out of range: Postgres allows 1 to "
        "10485760 (or use text)",
        f"{path}:5:25: tables[0].columns[1].type: numeric precision 1001 is out of range: Postgres allows 1 to 1000"]
    path.write_text(path.read_text().replace("99999999999", "10").replace("1001", "1000"))
    assert {c.type for c in load_schema(path, server_version=16).tables[0].columns} >= {"numeric(5,-2)", "numeric(3,5)"}
    with pytest.raises(ManifestError) as info:
        load_schema(path, server_version=14)
    assert [line.split(": ", 2)[1] for line in info.value.lines] == ["tables[0].columns[2].type",
                                                                    "tables[0].columns[3].type"]
    assert "PostgreSQL 14 allows 0 to the precision (5); 15 and later allow -1000 to 1000" in info.value.lines[0]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_any_fragment_loads_or_is_a_located_error(tmp_path_factory, default, expression, where):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    path.write_text(yaml.safe_dump({"tables": [{
        "name": "t", "columns": [{"name": "a", "type": "integer", "default": default}],
        "checks": [{"name": "c", "expression": expression}],
        "indexes": [{"columns": ["a"], "where": where}]}]}))
    try:
        load_schema(path)
    except ManifestError as exc:
        assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: tables\[0\]\.", line) for line in exc.lines), exc.lines
