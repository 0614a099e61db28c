"""Compare a database with a reference schema (Alembic autogenerate's comparison).

``differences`` runs the comparison (I/O); ``drift_changes`` turns its output into plan Changes (pure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata

from ..plan.address import DB, DB_COLUMN, DB_CONSTRAINT, DB_INDEX, DB_TABLE, Address
from ..plan.model import Action, Change, FieldChange
from .alembic_env import VERSION_TABLE, migration_context
from .column_defaults import render_type

SCHEMA = "public"


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


def render_default(default: Any) -> str | None:
    if default is None:
        return None
    if isinstance(default, str):
        return default
    arg = getattr(default, "arg", default)
    return str(getattr(arg, "text", arg))


@dataclass(frozen=True)
class Sides:
    """What was compared, for messages: the observed side and the reference it should equal."""

    live: str = "the database"
    expected: str = "schema.yaml"

    @property
    def missing(self) -> str:
        return f"missing from {self.live}"

    @property
    def extra(self) -> str:
        return f"in {self.live}, not in {self.expected}"


_KINDS = {"table": DB_TABLE, "index": DB_INDEX, "constraint": DB_CONSTRAINT, "fk": DB_CONSTRAINT}


def _address(what: str, diff: tuple) -> Address:
    if what == "column":
        return DB_COLUMN.address(f"{diff[2]}.{diff[3].name}")
    return _KINDS[what].address(diff[1].name)


def describe(diff: tuple, sides: Sides) -> tuple[Address, str, list[FieldChange]]:
    """(address, reason, field changes) of one Alembic difference ("add" = missing from the live side)."""
    kind = diff[0]
    verb, _, what = kind.partition("_")
    if verb in ("add", "remove") and what in ("table", "column", "index", "constraint", "fk"):
        return _address(what, diff), sides.missing if verb == "add" else sides.extra, []
    if verb == "modify":
        _, _, table, column, _existing, live, expected = diff
        if what == "type":
            live, expected = render_type(live), render_type(expected)
        elif what == "default":
            live, expected = render_default(live), render_default(expected)
        return DB_COLUMN.address(f"{table}.{column}"), f"{what} differs from {sides.expected}", [
            FieldChange(what, live, expected)]
    if what == "table_comment":
        table = diff[1]
        return DB_TABLE.address(table.name), f"comment differs from {sides.expected}", [
            FieldChange("comment", None, table.comment)]
    return DB.address(), f"{kind} ({sides.live} vs {sides.expected})", []  # a kind a newer Alembic added: still shown


def drift_changes(diffs: list[Any], sides: Sides) -> list[Change]:
    """One drift note per address, merging the field changes Alembic reports for it."""
    by_address: dict[Address, Change] = {}
    for diff in flatten(diffs):
        address, reason, fields = describe(diff, sides)
        change = by_address.get(address)
        if change is None:
            by_address[address] = Change(address, Action.DRIFT, list(fields), reason=reason)
        else:
            change.diff.extend(fields)
            change.reason = f"{', '.join(f.path for f in change.diff)} differ from {sides.expected}"
    return list(by_address.values())


def one_line(changes: list[Change]) -> str:
    """Drift notes as one line, for error messages: each address with its field changes, or its reason."""
    def shown(change: Change) -> str:
        return "; ".join(f"{f.path}: {f.before} -> {f.after}" for f in change.diff) or change.reason or "differs"

    return ", ".join(f"{change.address} ({shown(change)})" for change in changes)


def summarize(diffs: list[Any], sides: Sides) -> str:
    """One line naming every difference, for error messages."""
    return one_line(drift_changes(diffs, sides))
