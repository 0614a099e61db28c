"""Risk flags a reviewer needs for each SQL statement a revision runs (pure: SQL text in, flags out).

The SQL is what Alembic renders offline for the revision, so the flags describe exactly what
apply will run, whatever Python produced it. The rules, in one table-like place:

- destructive: something is dropped (table, column: with its data; index, constraint).
- modifies-data: rows are inserted, updated or deleted (UPDATE, INSERT, DELETE, TRUNCATE, MERGE,
  COPY FROM, also inside a CTE; DO blocks and CALL, which jsctl cannot read).
- backfill: the same, but only on what this revision created: rows of a table it created, columns
  it added (``UPDATE t SET new_column = ...``). No existing value changes, so it is not destructive.
- lossy: a type change that can change values for good (rounding, cutting, dropping the time).
- rewrite: the table is rewritten under an ACCESS EXCLUSIVE lock (most type changes, a volatile
  default or an identity on a new column).
- long-lock: a lock held while every row is read (SET NOT NULL, CREATE INDEX without CONCURRENTLY,
  FOREIGN KEY or CHECK without NOT VALID, UNIQUE/PRIMARY KEY added to an existing table).
- data-dependent: may fail on the rows present (narrowing a type, NOT NULL on existing rows, unique
  index, validated constraint).
destructive, modifies-data and lossy make a revision destructive where what they touch exists now
(plan/policy.py): each such finding names that table or index.
Statements on a table created earlier in the same revision carry no lock or data flags: it is empty.
What the conversion from one type to another does is types.py's.
"""

from __future__ import annotations

import re

from ..plan.details import (
    BACKFILL,
    CONCURRENTLY_IN_TRANSACTION,
    DATA_DEPENDENT,
    DESTRUCTIVE,
    LONG_LOCK,
    LOSSY,
    MODIFIES_DATA,
    REWRITE,
    Risk,
)
from .pgsql import DataChange, data_changes
from .types import conversion

# Functions whose value differs per row: a column added with such a default rewrites the table.
VOLATILE_FUNCTIONS = ("random(", "clock_timestamp(", "timeofday(", "gen_random_uuid(", "uuid_generate_v",
                      "nextval(", "txid_current(")
# Settings apply pins for its session, so that casts depending on them give the same result anywhere.
PINNED_SESSION = {"TimeZone": "UTC", "DateStyle": "ISO, MDY", "extra_float_digits": "1"}


class ImpossibleCast(ValueError):
    """An ALTER COLUMN ... TYPE that Postgres cannot do without a USING expression."""


def using_hint(table: str, column: str, old_type: str | None, new_type: str) -> str:
    """How to write a type change Postgres cannot do by itself (the cast Postgres' own hint suggests)."""
    return (f"{table}.{column} cannot change from {old_type or '?'} to {new_type} by itself (Postgres has no "
            f"automatic cast): the revision needs op.alter_column({table!r}, {column!r}, type_=..., "
            f"postgresql_using=\"{column}::{new_type.lower()}\"), after dropping the column's default (set it again "
            "after), written by hand")


_IDENT = r'"?([A-Za-z_][\w$]*)"?'


def assess(statements: list[tuple[str, bool]], column_types: dict[tuple[str, str], str]) -> list[Risk]:
    """Flags for each statement; ``column_types`` maps (table, column) to its type before the revision."""
    created: set[str] = set()
    added: set[tuple[str, str]] = set()  # (table, column) added by an earlier statement of the revision
    risks = []
    for sql, in_transaction in statements:
        risk = Risk(sql)
        _assess_one(risk, " ".join(sql.split()), in_transaction, created, added, column_types)
        risks.append(risk)
    return risks


def _only_new(change: DataChange, created: set[str], added: set[tuple[str, str]]) -> bool:
    """The change touches only what this revision created (a new table, or columns it added)."""
    if change.table in created:
        return True
    return change.columns is not None and all((change.table, column) in added for column in change.columns)


def _assess_one(risk: Risk, sql: str, in_transaction: bool, created: set[str],
                added: set[tuple[str, str]], column_types: dict[tuple[str, str], str]) -> None:
    if m := re.match(rf"CREATE TABLE (?:IF NOT EXISTS )?{_IDENT}", sql, re.I):
        created.add(m.group(1))
        return
    if m := re.match(rf"DROP TABLE (?:IF EXISTS )?{_IDENT}", sql, re.I):
        risk.flag(DESTRUCTIVE, f"drops table {m.group(1)} and its data", m.group(1))
        return
    changes = data_changes(sql)
    for change in changes:
        if _only_new(change, created, added):
            risk.flag(BACKFILL, f"{change.what} (only what this revision created: no existing value changes)")
        else:
            risk.flag(MODIFIES_DATA, change.what, change.table)
    if changes:
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
    if new := re.match(rf"ADD (?:COLUMN )?(?:IF NOT EXISTS )?(?!CONSTRAINT\b){_IDENT}", action, re.I):
        added.add((table, new.group(1)))
    _assess_alter(risk, table, action, column_types)


def _assess_alter(risk: Risk, table: str, action: str, column_types: dict[tuple[str, str], str]) -> None:
    upper = action.upper()
    if m := re.match(rf"DROP COLUMN (?:IF EXISTS )?{_IDENT}", action, re.I):
        risk.flag(DESTRUCTIVE, f"drops column {table}.{m.group(1)} and its data", table)
    elif m := re.match(rf"DROP CONSTRAINT (?:IF EXISTS )?{_IDENT}", action, re.I):
        risk.flag(DESTRUCTIVE, f"drops constraint {m.group(1)}", table)
    elif m := re.match(rf"ALTER COLUMN {_IDENT} (?:SET DATA )?TYPE (.+?)( USING .*)?$", action, re.I | re.S):
        _assess_type_change(risk, table, m.group(1), column_types.get((table, m.group(1))), m.group(2), m.group(3))
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


def _assess_type_change(risk: Risk, table: str, column: str, old_type: str | None, new_type: str,
                        using: str | None) -> None:
    effect = conversion(old_type, new_type, using=bool(using))
    if not effect.automatic:
        raise ImpossibleCast(using_hint(table, column, old_type, new_type))
    change = f"{old_type or '?'} -> {new_type}"
    if effect.lossy:
        pinned = f"; apply pins {_pinned(effect.session)}" if effect.session else ""
        risk.flag(LOSSY, f"{effect.lossy}: {table}.{column} ({change}){pinned}", table)
    if effect.rewrites:
        risk.flag(REWRITE, f"rewrites {table} under an exclusive lock ({change})")
    if effect.may_fail:
        risk.flag(DATA_DEPENDENT, f"fails if existing values of {table}.{column} do not fit {new_type}")


def _pinned(settings: str) -> str:
    return ", ".join(f"{name} = {PINNED_SESSION[name]!r}" for name in settings.split(", "))


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
