"""Thresholds as users write them (pure): amounts, user ids, CSV files good and hostile."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import UserError
from reconciler.worker.thresholds import COLUMNS, HEADER, Threshold, amount, checked, parse_csv
from tests.worker.harness import REPO


def test_the_column_limits_are_those_of_schema_yaml():
    schema = yaml.safe_load((REPO / "migrations" / "schema.yaml").read_text())
    table = next(t for t in schema["tables"] if t["name"] == "user_thresholds")
    types = {c["name"]: c["type"] for c in table["columns"]}
    assert {name: types[name] for name in COLUMNS} == {name: f"numeric({p},{s})" for name, (p, s) in COLUMNS.items()}


@pytest.mark.parametrize(("text", "value"), [
    ("250", Decimal("250")), ("1000.50", Decimal("1000.50")), (" 7 ", Decimal("7")), ("0.000001", Decimal("0.000001")),
    ("9999999999999.999999", Decimal("9999999999999.999999")), ("0010.100000000", Decimal("10.1")),
])
def test_amounts_are_exact_decimals(text, value):
    assert amount(text, "max_amount") == value
    assert isinstance(amount(text, "max_amount"), Decimal)


@pytest.mark.parametrize(("text", "column", "why"), [
    ("1e3", "max_amount", "not a decimal number"), ("1,000", "max_amount", "not a decimal number"),
    ("-5", "max_amount", "not a decimal number"), ("NaN", "max_amount", "not a decimal number"),
    ("Infinity", "daily_limit", "not a decimal number"), ("1_000", "max_amount", "not a decimal number"),
    ("١٢", "max_amount", "not a decimal number"),  # Arabic-Indic digits: Decimal() would take them
    ("", "max_amount", "not a decimal number"), (".5", "max_amount", "not a decimal number"),
    ("0", "max_amount", "greater than 0"), ("0.000000", "daily_limit", "greater than 0"),
    ("1.0000001", "max_amount", "more than 6 decimals"),
    ("10000000000000", "max_amount", "too large (at most 13 digits"),
    ("10000000000000", "daily_limit", None), ("1000000000000000000", "daily_limit", "too large (at most 18 digits"),
])
def test_amounts_postgres_would_round_or_refuse_are_refused(text, column, why):
    if why is None:
        assert amount(text, column) == Decimal(text)
        return
    with pytest.raises(ValueError, match=re.escape(why)):
        amount(text, column)


def test_set_arguments_report_every_problem_at_once():
    assert checked("u1", "1", None) == ("u1", Decimal("1"), None)
    with pytest.raises(UserError) as refused:
        checked(" u1", "x", "0")
    assert str(refused.value) == ("user_id ' u1' starts or ends with whitespace; max_amount 'x' is not a decimal "
                                  "number (like 250 or 1000.50); daily_limit must be greater than 0, got '0'")
    with pytest.raises(UserError, match="control characters"):
        checked("u\x001", "1", "1")
    with pytest.raises(UserError, match="129 characters > 128"):
        checked("u" * 129, "1", "1")


def test_a_file_in_any_column_order_with_a_byte_order_mark_and_crlf():
    data = "\ufeffdaily_limit, user_id ,max_amount\r\n5000,u1,100.5\r\n\r\n7,\"u,2\",3\r\n".encode()
    assert parse_csv(data, "t.csv") == [Threshold("u1", Decimal("100.5"), Decimal("5000")),
                                        Threshold("u,2", Decimal("3"), Decimal("7"))]
    assert parse_csv(b"user_id,max_amount,daily_limit\n", "t.csv") == []


def refusal(data: bytes) -> list[str]:
    with pytest.raises(UserError) as refused:
        parse_csv(data, "t.csv")
    first, *lines = str(refused.value).splitlines()
    assert first.startswith("t.csv refused, nothing imported (")
    return lines


def test_every_bad_row_is_reported_with_its_line():
    data = (b"user_id,max_amount,daily_limit\n"
            b"u1,100,1000\n"
            b"u2,1e3,5\n"
            b"\"multi\nline\",1,2\n"
            b"u3,1\n"
            b"u1,5,6\n"
            b"u4,1,1.0000001\n")
    assert refusal(data) == [
        "t.csv:3: max_amount '1e3' is not a decimal number (like 250 or 1000.50)",
        "t.csv:4: user_id contains control characters",
        "t.csv:6: 2 fields, the header has 3",
        "t.csv:7: user 'u1' is also on line 2",
        "t.csv:8: daily_limit '1.0000001' has more than 6 decimals",
    ]


@pytest.mark.parametrize(("data", "expected"), [
    (b"", ["t.csv:1: no header row: expected user_id,max_amount,daily_limit"]),
    (b"\n \n", ["t.csv:1: no header row: expected user_id,max_amount,daily_limit"]),
    (b"user,max_amount,daily_limit,user_id,user_id\n",
     ["t.csv:1: unknown column 'user' (the header is user_id,max_amount,daily_limit, in any order)",
      "t.csv:1: column given twice 'user_id' (the header is user_id,max_amount,daily_limit, in any order)",
      ]),
    (b"user_id,max_amount\nu,1\n",
     ["t.csv:1: missing column 'daily_limit' (the header is user_id,max_amount,daily_limit, in any order)"]),
    (b"user_id,max_amount,daily_limit\nu1,1,2\nu2,\xff,3\n", ["t.csv:3: not UTF-8 (byte 41 of the file)"]),
    (b"\xef\xbb\xbfuser_id,max_amount,daily_limit\n\xff", ["t.csv:2: not UTF-8 (byte 34 of the file)"]),
    (b"user_id,max_amount,daily_limit\nu1,1,\"2\n", ["t.csv:2: unexpected end of data"]),
    (b"user_id,max_amount,daily_limit\nu1,1,\"2\"x\n", ["t.csv:2: ',' expected after '\"'"]),
])
def test_a_file_that_is_not_a_thresholds_table_is_refused_at_its_line(data, expected):
    assert refusal(data) == expected


def test_a_field_beyond_the_csv_field_limit_is_a_located_error():
    lines = refusal(b"user_id,max_amount,daily_limit\nu1,1,2\nu2,1," + b"9" * 200_000 + b"\n")
    assert lines == ["t.csv:3: field larger than field limit (131072)"]


def test_many_bad_rows_are_listed_up_to_twenty_then_counted():
    lines = refusal(b"user_id,max_amount,daily_limit\n" + b"u,0,1\n" * 30)
    assert len(lines) == 21 and lines[-1] == "... and 10 more"


LOCATED = re.compile(r"t\.csv:\d+: \S|\.\.\. and \d+ more$")


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=st.sampled_from(list('user_id,max_amount,daily_limit0123456789.-e"\r\n \x00\ufeff\u00e9')),
            max_size=200).map(str.encode),
    st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=4), max_size=6).map(
        lambda rows: "\n".join(",".join(row) for row in [list(HEADER), *rows]).encode()),
))
def test_hostile_files_give_thresholds_or_located_errors(data):
    try:
        result = parse_csv(data, "t.csv")
    except UserError as exc:
        first, *lines = str(exc).splitlines()
        assert first.startswith("t.csv refused, nothing imported (") and lines
        assert all(LOCATED.match(line) for line in lines), lines
        return
    assert all(isinstance(t.max_amount, Decimal) and isinstance(t.daily_limit, Decimal) for t in result)
    assert len({t.user_id for t in result}) == len(result)


amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("9999999999999.999999"), places=6)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20).filter(
    lambda s: s == s.strip() and not re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", s)),
    st.tuples(amounts, amounts), max_size=10))
def test_what_csv_writes_comes_back_exactly(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for user, (max_amount, daily_limit) in rows.items():
        writer.writerow([user, f"{max_amount:f}", f"{daily_limit:f}"])
    assert parse_csv(out.getvalue().encode(), "t.csv") == [Threshold(u, m, d) for u, (m, d) in rows.items()]
