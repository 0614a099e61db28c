"""Observe a live database and compare it with a reference schema (Alembic autogenerate's comparison).

``differences`` runs the comparison (I/O); ``drift_changes`` turns its output into plan Changes (pure).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import postgresql

from ..plan import DRIFT, Change, FieldChange
from .alembic_env import VERSION_TABLE, configure_options

SCHEMA = "public"


def migration_context(connection: sa.Connection) -> MigrationContext:
    return MigrationContext.configure(connection, opts=configure_options())


def current_revision(connection: sa.Connection) -> str | None:
    return migration_context(connection).get_current_revision()


def is_managed(connection: sa.Connection) -> bool:
    return sa.inspect(connection).has_table(VERSION_TABLE, schema=SCHEMA)


def user_tables(connection: sa.Connection) -> list[str]:
    """Tables in the public schema other than Alembic's version table."""
    return sorted(t for t in sa.inspect(connection).get_table_names(schema=SCHEMA) if t != VERSION_TABLE)


def reflect(connection: sa.Connection) -> sa.MetaData:
    """The schema of a database as MetaData (used as the expected state: a scratch database at a revision)."""
    metadata = sa.MetaData()
    metadata.reflect(connection, only=lambda name, _: name != VERSION_TABLE)
    connection.rollback()
    return metadata


def differences(connection: sa.Connection, expected: sa.MetaData) -> list[Any]:
    """Alembic's differences between the database and ``expected`` (empty: they match)."""
    diffs = compare_metadata(migration_context(connection), expected)
    connection.rollback()  # reflection autobegan a transaction; end it so later work starts clean
    return diffs


def flatten(diffs: list[Any]) -> list[tuple]:
    """Alembic groups column modifications in lists; flatten them."""
    out: list[tuple] = []
    for diff in diffs:
        out.extend(diff if isinstance(diff, list) else [diff])
    return out


def render_type(type_: Any) -> str:
    return str(type_.compile(dialect=postgresql.dialect())) if type_ is not None else "?"


def render_default(default: Any) -> str | None:
    if default is None:
        return None
    if isinstance(default, str):
        return default
    arg = getattr(default, "arg", default)
    return str(getattr(arg, "text", arg))


def _constraint_address(constraint: Any) -> str:
    return f"db/constraint/{constraint.name}"


def describe(diff: tuple) -> tuple[str, str, list[FieldChange]]:
    """(address, reason, field changes) of one Alembic difference; "live" is the database compared."""
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1]
        where = f"db/table/{table.name}"
        return (where, "missing from the database", []) if kind == "add_table" else \
            (where, "in the database but not expected", [])
    if kind in ("add_column", "remove_column"):
        _, _, table, column = diff
        where = f"db/column/{table}.{column.name}"
        return (where, "missing from the database", []) if kind == "add_column" else \
            (where, "in the database but not expected", [])
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        where = f"db/index/{index.name}"
        return (where, "missing from the database", []) if kind == "add_index" else \
            (where, "in the database but not expected", [])
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        where = _constraint_address(diff[1])
        missing = kind.startswith("add")
        return (where, "missing from the database" if missing else "in the database but not expected", [])
    if kind.startswith("modify_"):
        _, _, table, column, _existing, live, expected = diff
        field = kind.removeprefix("modify_")
        if field == "type":
            live, expected = render_type(live), render_type(expected)
        elif field == "default":
            live, expected = render_default(live), render_default(expected)
        return f"db/column/{table}.{column}", f"{field} differs", [FieldChange(field, live, expected)]
    if kind in ("add_table_comment", "remove_table_comment"):
        table = diff[1]
        return f"db/table/{table.name}", "comment differs", [FieldChange("comment", None, table.comment)]
    return "db", kind, []  # a kind this version of Alembic added: still shown, never hidden


def drift_changes(diffs: list[Any], reference: str) -> list[Change]:
    """One drift note per address, merging the field changes Alembic reports for it."""
    by_address: dict[str, Change] = {}
    for diff in flatten(diffs):
        address, reason, fields = describe(diff)
        change = by_address.get(address)
        if change is None:
            by_address[address] = Change(address, DRIFT, list(fields), reason=f"{reason} ({reference})")
        else:
            change.diff.extend(fields)
            change.reason = f"{', '.join(f.path for f in change.diff)} differ ({reference})"
    return list(by_address.values())


def summarize(diffs: list[Any]) -> str:
    """One line naming every difference, for error messages."""
    parts = []
    for diff in flatten(diffs):
        address, reason, fields = describe(diff)
        shown = "; ".join(f"{f.path}: {f.before} -> {f.after}" for f in fields) or reason
        parts.append(f"{address} ({shown})")
    return ", ".join(parts)
