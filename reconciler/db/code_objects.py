"""Functions, triggers and views of the public schema: the objects Alembic's comparison does not see.

The migrations create them (revision 0002's ``jsctl_record_batch``, the worker's set-based function),
so they are part of the compared schema: a database missing one is drift, and is not adopted.

Each object is an address (``db/function/NAME(ARGUMENT TYPES)``, ``db/trigger/TABLE.NAME``,
``db/view/NAME``) and its facts, values that read the same on every Postgres server:

- a function: its source as written (a digest of ``prosrc``, not ``pg_get_functiondef``'s text, which
  differs between server builds), arguments, result, language, volatility, strictness, security and
  ``SET`` configuration;
- a trigger: its function, timing, events, level, columns, arguments, whether it has a WHEN
  condition, enabled state;
- a view: materialized or not, its columns and their types.

Text Postgres deparses (a view's query, a trigger's WHEN, a function's argument defaults) differs
between server versions, so comparisons with the migrations replayed on a scratch server leave it
out; the fingerprint of saved plans, which compares one server with itself, includes it
(``definitions=True``). Objects that belong to an extension (``pg_depend`` deptype ``e``) are skipped:
the extension owns them, not the migrations.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from ..plan.address import DB_FUNCTION, DB_TRIGGER, DB_VIEW, Address
from ..plan.model import Action, Change, FieldChange
from ..plan.planfile import digest
from .diff import SCHEMA, Sides


def _not_in_extension(catalog: str, oid: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass "
            f"AND e.objid = {oid} AND e.deptype = 'e')")


_FUNCTIONS = f"""
    SELECT p.proname, oidvectortypes(p.proargtypes), p.prokind, pg_get_function_identity_arguments(p.oid),
           pg_get_function_result(p.oid), l.lanname, p.prosrc, p.provolatile, p.proisstrict, p.prosecdef,
           p.proconfig, pg_get_function_arguments(p.oid)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE n.nspname = %(schema)s AND {_not_in_extension('pg_proc', 'p.oid')}"""
_TRIGGERS = f"""
    SELECT c.relname, g.tgname, g.tgfoid::regprocedure::text, g.tgtype, g.tgenabled, g.tgnargs, g.tgargs,
           ARRAY(SELECT a.attname FROM unnest(g.tgattr::int2[]) WITH ORDINALITY AS k(number, position)
                 JOIN pg_attribute a ON a.attrelid = g.tgrelid AND a.attnum = k.number ORDER BY k.position),
           g.tgqual IS NOT NULL, g.tgconstraint <> 0, pg_get_triggerdef(g.oid)
    FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND NOT g.tgisinternal AND {_not_in_extension('pg_class', 'c.oid')}"""
_VIEWS = f"""
    SELECT c.relname, c.relkind = 'm',
           ARRAY(SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
           pg_get_viewdef(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind IN ('v', 'm') AND {_not_in_extension('pg_class', 'c.oid')}"""

_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_ENABLED = {"O": "enabled", "D": "disabled", "R": "replica", "A": "always"}
# pg_trigger.tgtype's bits (src/include/catalog/pg_trigger.h)
_ROW, _BEFORE, _INSTEAD = 1 << 0, 1 << 1, 1 << 6
_EVENTS = ((1 << 2, "insert"), (1 << 4, "update"), (1 << 3, "delete"), (1 << 5, "truncate"))


def source_digest(source: str | None) -> str:
    return "sha256:" + hashlib.sha256((source or "").encode()).hexdigest()


def _function(row: Any, definitions: bool) -> tuple[Address, dict[str, Any]]:
    name, types, kind, arguments, result, language, source, volatility, strict, definer, config, full = row
    facts = {"kind": _KINDS.get(kind, kind), "arguments": arguments, "returns": result, "language": language,
             "source": source_digest(source), "volatility": _VOLATILITY.get(volatility, volatility),
             "strict": strict, "security_definer": definer, "config": sorted(config or [])}
    if definitions:
        facts["definition"] = full  # argument defaults, deparsed
    return DB_FUNCTION.address(f"{name}({types})"), facts


def _trigger(row: Any, definitions: bool) -> tuple[Address, dict[str, Any]]:
    table, name, function, bits, enabled, nargs, args, columns, when, constraint, full = row
    facts = {"function": function,
             "timing": "instead of" if bits & _INSTEAD else "before" if bits & _BEFORE else "after",
             "events": [event for bit, event in _EVENTS if bits & bit],
             "level": "row" if bits & _ROW else "statement", "columns": list(columns),
             "arguments": [arg.decode(errors="replace") for arg in bytes(args).split(b"\0")[:nargs]],
             "when": when, "constraint": constraint, "enabled": _ENABLED.get(enabled, enabled)}
    if definitions:
        facts["definition"] = full
    return DB_TRIGGER.address(f"{table}.{name}"), facts


def _view(row: Any, definitions: bool) -> tuple[Address, dict[str, Any]]:
    name, materialized, columns, query = row
    facts: dict[str, Any] = {"materialized": materialized, "columns": list(columns)}
    if definitions:
        facts["definition"] = query
    return DB_VIEW.address(name), facts


def observe_objects(connection: sa.Connection, *, definitions: bool = False) -> dict[Address, dict[str, Any]]:
    """The functions, triggers and views of the public schema, each with its facts (see above)."""
    objects: dict[Address, dict[str, Any]] = {}
    for query, read in ((_FUNCTIONS, _function), (_TRIGGERS, _trigger), (_VIEWS, _view)):
        for row in connection.exec_driver_sql(query, {"schema": SCHEMA}).all():
            address, facts = read(row, definitions)
            objects[address] = facts
    connection.rollback()
    return dict(sorted(objects.items()))


def digests(objects: dict[Address, dict[str, Any]]) -> dict[str, str]:
    """One digest per object: what a plan keeps of the objects the migrations create."""
    return {str(address): digest(facts) for address, facts in objects.items()}


def object_drift(live: dict[Address, Any], expected: dict[Address, Any], sides: Sides) -> list[Change]:
    """One drift note per object that is missing, extra or different (fact by fact when the values are
    facts; a digest of them only says that it differs)."""
    changes = []
    for address in sorted(live.keys() | expected.keys()):
        have, want = live.get(address), expected.get(address)
        if have == want:
            continue
        if have is None or want is None:
            changes.append(Change(address, Action.DRIFT, reason=sides.missing if have is None else sides.extra))
        elif isinstance(have, dict) and isinstance(want, dict):
            fields = [FieldChange(key, have.get(key), want.get(key)) for key in sorted(have.keys() | want.keys())
                      if have.get(key) != want.get(key)]
            verb = "differs" if len(fields) == 1 else "differ"
            changes.append(Change(address, Action.DRIFT, fields,
                                  reason=f"{', '.join(f.path for f in fields)} {verb} from {sides.expected}"))
        else:
            changes.append(Change(address, Action.DRIFT, reason=f"differs from {sides.expected}"))
    return changes
