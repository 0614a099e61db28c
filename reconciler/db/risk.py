"""Risk flags a reviewer needs for each SQL statement a revision runs (pure: SQL text in, flags out).

The SQL is what Alembic renders offline for the revision, so the flags describe exactly what
apply will run, whatever Python produced it. The rules, in one table-like place:

- destructive: something is dropped (table, column: with its data; index, constraint) or rows are
  deleted; each such finding names the table or index it touches, so plan/policy.py can judge it
  on the live database (a revision is destructive only where that exists now).
- rewrite: the table is rewritten under an ACCESS EXCLUSIVE lock (most type changes, a volatile
  default or an identity on a new column).
- long-lock: a lock held while every row is read (SET NOT NULL, CREATE INDEX without CONCURRENTLY,
  FOREIGN KEY or CHECK without NOT VALID, UNIQUE/PRIMARY KEY added to an existing table).
- data-dependent: may fail on the rows present (narrowing a type, NOT NULL on existing rows, unique
  index, validated constraint).
Statements on a table created earlier in the same revision carry no lock or data flags: it is empty.
"""

from __future__ import annotations

import re

from ..plan.details import CONCURRENTLY_IN_TRANSACTION, DATA_DEPENDENT, DESTRUCTIVE, LONG_LOCK, REWRITE, Risk

# Functions whose value differs per row: a column added with such a default rewrites the table.
VOLATILE_FUNCTIONS = ("random(", "clock_timestamp(", "timeofday(", "gen_random_uuid(", "uuid_generate_v",
                      "nextval(", "txid_current(")
_INTEGER_WIDTH = {"smallint": 2, "integer": 4, "bigint": 8}
_TYPE_ALIASES = {
    "int": "integer", "int4": "integer", "int2": "smallint", "int8": "bigint", "character varying": "varchar",
    "decimal": "numeric", "timestamp with time zone": "timestamptz", "bool": "boolean",
}


def parse_type(text: str) -> tuple[str, tuple[int, ...]]:
    """``NUMERIC(19, 6)`` -> ("numeric", (19, 6)); ``character varying(10)`` -> ("varchar", (10,))."""
    text = " ".join(text.strip().lower().split())
    match = re.fullmatch(r"([a-z ]+?)\s*(?:\(([\d,\s]+)\))?", text)
    if not match:
        return text, ()
    base = _TYPE_ALIASES.get(match.group(1), match.group(1))
    args = tuple(int(a) for a in match.group(2).split(",")) if match.group(2) else ()
    return base, args


def type_change(old: str | None, new: str) -> tuple[bool, bool]:
    """(rewrites the table, narrows: values may not fit) for ALTER COLUMN TYPE old -> new."""
    if old is None:
        return True, True  # unknown old type: assume the worst
    (ob, oa), (nb, na) = parse_type(old), parse_type(new)
    if (ob, oa) == (nb, na):
        return False, False
    if ob in ("varchar", "text") and nb == "text":
        return False, False  # binary coercible
    if ob == nb == "varchar":
        return (False, False) if (not na or (oa and na[0] >= oa[0])) else (False, True)
    if ob == "text" and nb == "varchar":
        return False, True
    if ob == nb == "numeric" and len(oa) == 2 and len(na) == 2:
        widening = na[1] == oa[1] and na[0] >= oa[0]
        narrows = na[0] - na[1] < oa[0] - oa[1] or na[1] < oa[1]
        return not widening, narrows
    if ob in _INTEGER_WIDTH and nb in _INTEGER_WIDTH:
        return True, _INTEGER_WIDTH[nb] < _INTEGER_WIDTH[ob]
    return True, True


_IDENT = r'"?([A-Za-z_][\w$]*)"?'


def assess(statements: list[tuple[str, bool]], column_types: dict[tuple[str, str], str]) -> list[Risk]:
    """Flags for each statement; ``column_types`` maps (table, column) to its type before the revision."""
    created: set[str] = set()
    risks = []
    for sql, in_transaction in statements:
        risk = Risk(sql)
        _assess_one(risk, " ".join(sql.split()), in_transaction, created, column_types)
        risks.append(risk)
    return risks


def _assess_one(risk: Risk, sql: str, in_transaction: bool, created: set[str],
                column_types: dict[tuple[str, str], str]) -> None:
    if m := re.match(rf"CREATE TABLE (?:IF NOT EXISTS )?{_IDENT}", sql, re.I):
        created.add(m.group(1))
        return
    if m := re.match(rf"DROP TABLE (?:IF EXISTS )?{_IDENT}", sql, re.I):
        risk.flag(DESTRUCTIVE, f"drops table {m.group(1)} and its data", m.group(1))
        return
    if m := re.match(rf"(?:TRUNCATE|DELETE)\b(?: TABLE| FROM)?(?: ONLY)?(?: {_IDENT})?", sql, re.I):
        risk.flag(DESTRUCTIVE, "deletes rows", m.group(1))
        return
    if m := re.match(rf"DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?{_IDENT}", sql, re.I):
        risk.flag(DESTRUCTIVE, f"drops index {m.group(1)}", m.group(1))
        return
    if m := re.match(rf"CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?{_IDENT} ON (?:ONLY )?{_IDENT}",
                     sql, re.I):
        unique, concurrently, table = m.group(1), m.group(2), m.group(4)
        if concurrently and in_transaction:
            risk.flag(CONCURRENTLY_IN_TRANSACTION,
                      "CREATE INDEX CONCURRENTLY cannot run in a transaction: use op.get_context().autocommit_block()")
        if table in created:
            return
        if not concurrently:
            risk.flag(LONG_LOCK, f"blocks writes to {table} while the index is built (use CONCURRENTLY)")
        if unique:
            risk.flag(DATA_DEPENDENT, "fails if existing rows have duplicates")
        return
    m = re.match(rf"ALTER TABLE (?:ONLY )?(?:IF EXISTS )?{_IDENT} (.*)", sql, re.I | re.S)
    if not m or m.group(1) in created:
        return
    table, action = m.group(1), m.group(2)
    _assess_alter(risk, table, action, column_types)


def _assess_alter(risk: Risk, table: str, action: str, column_types: dict[tuple[str, str], str]) -> None:
    upper = action.upper()
    if m := re.match(rf"DROP COLUMN (?:IF EXISTS )?{_IDENT}", action, re.I):
        risk.flag(DESTRUCTIVE, f"drops column {table}.{m.group(1)} and its data", table)
    elif m := re.match(rf"DROP CONSTRAINT (?:IF EXISTS )?{_IDENT}", action, re.I):
        risk.flag(DESTRUCTIVE, f"drops constraint {m.group(1)}", table)
    elif m := re.match(rf"ALTER COLUMN {_IDENT} (?:SET DATA )?TYPE (.+?)(?: USING .*)?$", action, re.I):
        column, new_type = m.group(1), m.group(2)
        old_type = column_types.get((table, column))
        rewrites, narrows = type_change(old_type, new_type)
        if rewrites:
            risk.flag(REWRITE, f"rewrites {table} under an exclusive lock ({old_type or '?'} -> {new_type})")
        if narrows:
            risk.flag(DATA_DEPENDENT, f"fails if existing values of {table}.{column} do not fit {new_type}")
    elif re.match(rf"ALTER COLUMN {_IDENT} SET NOT NULL", action, re.I):
        risk.flag(LONG_LOCK, f"scans {table} under an exclusive lock")
        risk.flag(DATA_DEPENDENT, "fails if existing rows hold NULL")
    elif upper.startswith("ADD CONSTRAINT"):
        _assess_add_constraint(risk, table, upper)
    elif upper.startswith("ADD "):
        if "IDENTITY" in upper or any(f.upper() in upper for f in VOLATILE_FUNCTIONS):
            risk.flag(REWRITE, f"a volatile default or identity rewrites {table}")
        if "NOT NULL" in upper and "DEFAULT" not in upper and "IDENTITY" not in upper:
            risk.flag(DATA_DEPENDENT, f"fails if {table} has rows (NOT NULL without a default)")


def _assess_add_constraint(risk: Risk, table: str, upper: str) -> None:
    not_valid = upper.rstrip().endswith("NOT VALID")
    if " FOREIGN KEY" in upper and not not_valid:
        risk.flag(LONG_LOCK, f"validates every row of {table} while holding a lock (add NOT VALID, "
                             "then VALIDATE CONSTRAINT)")
        risk.flag(DATA_DEPENDENT, "fails if existing rows have no match")
    elif " CHECK" in upper and not not_valid:
        risk.flag(LONG_LOCK, f"scans {table} under an exclusive lock (add NOT VALID, then VALIDATE CONSTRAINT)")
        risk.flag(DATA_DEPENDENT, "fails if existing rows violate the check")
    elif " UNIQUE" in upper or " PRIMARY KEY" in upper:
        risk.flag(LONG_LOCK, f"builds an index on {table} under an exclusive lock")
        risk.flag(DATA_DEPENDENT, "fails if existing rows have duplicates")
