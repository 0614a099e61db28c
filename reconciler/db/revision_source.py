"""Data changes a revision file makes that its offline SQL may not show.

A revision's risks are read from the SQL Alembic renders offline, but Python can run SQL that
rendering never sees (a branch on ``context.is_offline_mode()``, the driver connection of
``op.get_bind()``). So the file itself is read too (Python's ast, never executed): SQL strings
anywhere outside ``downgrade()`` that the Postgres parser reads as changing rows, and calls that
build such statements (``op.bulk_insert``, ``sa.insert/update/delete``, ``table.insert()``...).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .pgsql import DataChange, data_changes, statements

_BUILDERS = ("insert", "update", "delete")
_SQLALCHEMY = ("sa", "sqlalchemy")


@dataclass(frozen=True)
class SourceChange:
    line: int
    code: str  # the source text of the string or call
    what: str  # e.g. "updates rows of user_thresholds"
    sql: str | None = None  # the statement, when it is written out as a string


def source_data_changes(path: Path) -> list[SourceChange]:
    """Data changes written in the file (outside downgrade()), in line order; [] if it does not parse."""
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return []  # loading the revision reports those
    skipped = {id(node) for top in tree.body if isinstance(top, ast.FunctionDef) and top.name == "downgrade"
               for node in ast.walk(top)}
    skipped |= {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    builders = _imported_builders(tree)
    found: list[SourceChange] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        code = (ast.get_source_segment(source, node) or "").strip()
        first_line = code.splitlines()[0] if code else ""
        found += [SourceChange(node.lineno, first_line, change.what, _sql_text(node))
                  for change in _string_changes(node)]
        found += [SourceChange(node.lineno, first_line, what) for what in _call_changes(node, builders)]
    return sorted(found, key=lambda change: change.line)


def _sql_text(node: ast.AST) -> str | None:
    """A string constant, or an f-string with each placeholder read as an identifier."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "_" for part in node.values)
    return None


def _string_changes(node: ast.AST) -> list[DataChange]:
    text = _sql_text(node)
    if text is None or statements(text) is None:  # not SQL (a docstring, a message)
        return []
    return data_changes(text)


def _imported_builders(tree: ast.Module) -> dict[str, str]:
    """Names bound by ``from sqlalchemy import insert, update, delete``: local name -> builder."""
    return {alias.asname or alias.name: alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "sqlalchemy" for alias in node.names
            if alias.name in _BUILDERS}


def _call_changes(node: ast.AST, builders: dict[str, str]) -> list[str]:
    if not isinstance(node, ast.Call):
        return []
    func = node.func
    if isinstance(func, ast.Name) and func.id in builders:
        return [f"builds an SQL {builders[func.id].upper()}"]
    if not isinstance(func, ast.Attribute):
        return []
    if func.attr == "bulk_insert":
        return ["inserts rows (bulk_insert)"]
    on_sqlalchemy = isinstance(func.value, ast.Name) and func.value.id in _SQLALCHEMY
    table_method = not node.args and not node.keywords  # table.update(); dict.update and list.insert take arguments
    if func.attr in _BUILDERS and (on_sqlalchemy or table_method):
        return [f"builds an SQL {func.attr.upper()}"]
    return []
