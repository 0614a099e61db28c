"""What the PostgreSQL parser itself (pglast: libpg_query) says about SQL text.

- ``parse_expression``: a schema.yaml fragment (default, check, index predicate) must be exactly
  one SQL expression: jsctl pastes it into DDL, so a ``;``, a comment or a second clause would
  smuggle SQL into the revision (``0; UPDATE ...``). Parsed, not grepped: ``'a;b'`` is a string.
- ``data_changes``: what rows a statement inserts, updates or deletes (also inside a CTE or an
  EXPLAIN ANALYZE), for the ``modifies-data`` and ``backfill`` risk flags. Function bodies are text,
  not parsed: a CREATE FUNCTION whose body deletes rows deletes nothing when it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pglast import ast, parser
from pglast.parser import ParseError

_COMMENT_TOKENS = ("SQL_COMMENT", "C_COMMENT")
_PLAIN_SELECT = parser.parse_sql("SELECT 1")[0].stmt  # every clause but the target list at its default


@dataclass(frozen=True)
class Expression:
    """A parsed fragment: its column names (unqualified), for the callers' own checks."""

    columns: tuple[str, ...]


def walk(node: object) -> Iterator[ast.Node]:
    """Every node under ``node`` (itself included), depth first."""
    if isinstance(node, ast.Node):
        yield node
        for attribute in node.__slots__:
            yield from walk(getattr(node, attribute))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from walk(item)


def _located(message: str, offset: int | None, prefix: int) -> str:
    """``message`` with the place in the fragment (pglast counts characters of the whole statement)."""
    return f"{message} (at character {offset - prefix + 1})" if offset is not None and offset >= prefix else message


def parse_expression(text: str, *, columns_allowed: bool = True) -> Expression | str:
    """The fragment parsed as one expression, or why it is not one (a message for the user)."""
    if not text.strip():
        return "empty: one SQL expression is needed"
    if "\0" in text:
        return "NUL characters are not allowed (the parser would stop reading there)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid text (a lone surrogate character)"
    prefix = "SELECT "
    sql = prefix + text
    try:
        tokens = parser.scan(sql)
        parsed = parser.parse_sql(sql)
    except ParseError as exc:
        message, offset = exc.args if len(exc.args) == 2 else (str(exc), None)
        return _located(f"not an SQL expression: {message}", offset, len(prefix))
    for token in tokens:
        if token.name in _COMMENT_TOKENS:
            return _located("comments are not allowed (they could hide the rest of the statement)",
                            token.start, len(prefix))
        if token.name == "ASCII_59":  # ';'
            return _located("';' ends the statement: one SQL expression only", token.start, len(prefix))
    select = parsed[0].stmt if len(parsed) == 1 else None
    if not isinstance(select, ast.SelectStmt) or len(select.targetList or ()) != 1 or any(
            getattr(select, name) != getattr(_PLAIN_SELECT, name) for name in select.__slots__ if name != "targetList"):
        return "one SQL expression only (no list, clause or second statement)"
    (target,) = select.targetList
    if target.name is not None:
        return "one SQL expression only (no alias)"
    nodes = list(walk(target.val))
    if any(isinstance(node, ast.SubLink) for node in nodes):
        return "subqueries are not allowed here (Postgres refuses them in defaults, checks and index predicates)"
    references = [node for node in nodes if isinstance(node, ast.ColumnRef)]
    if any(isinstance(field, ast.A_Star) for ref in references for field in ref.fields):
        return "one SQL expression only ('*' is not one)"
    if references and not columns_allowed:
        name = ".".join(field.sval for field in references[0].fields)
        return (f"a default cannot refer to a column ({name!r}); a string value needs quotes: "
                f"\"'{name}'\"")
    return Expression(tuple(ref.fields[-1].sval for ref in references))


def statements(sql: str) -> tuple[ast.Node, ...] | None:
    """The statements of ``sql``, or None when the parser cannot read it."""
    try:
        return tuple(raw.stmt for raw in parser.parse_sql(sql))
    except ParseError:
        return None


def _relation(node: ast.Node) -> str:
    relation = getattr(node, "relation", None)
    return relation.relname if isinstance(relation, ast.RangeVar) else "?"


@dataclass(frozen=True)
class DataChange:
    """One thing a statement does to rows."""

    what: str  # e.g. "updates rows of t"
    table: str | None = None  # None: cannot be told
    columns: tuple[str, ...] | None = None  # the columns an UPDATE sets; None: whole rows


def _describe(node: ast.Node) -> DataChange | None:
    table = _relation(node)
    if isinstance(node, ast.InsertStmt):
        return DataChange(f"inserts rows into {table}", table)
    if isinstance(node, ast.UpdateStmt):
        return DataChange(f"updates rows of {table}", table, tuple(target.name for target in node.targetList))
    if isinstance(node, ast.DeleteStmt):
        return DataChange(f"deletes rows from {table}", table)
    if isinstance(node, ast.MergeStmt):
        return DataChange(f"merges rows into {table}", table)
    if isinstance(node, ast.TruncateStmt):
        names = [r.relname for r in node.relations]
        return DataChange(f"empties {', '.join(names)}", names[0] if len(names) == 1 else None)
    if isinstance(node, ast.CopyStmt) and node.is_from:
        return DataChange(f"copies rows into {table}", table)
    if isinstance(node, (ast.DoStmt, ast.CallStmt)):
        return DataChange("runs procedural code that may change rows (jsctl cannot read it)")
    return None


def data_changes(sql: str) -> list[DataChange]:
    """What ``sql`` does to rows, one entry per change; unreadable SQL counts as a change."""
    parsed = statements(sql)
    if parsed is None:
        return [DataChange("cannot be parsed, so it may change rows")]
    return [change for statement in parsed for node in walk(statement) if (change := _describe(node))]


def written_tables(sql: str) -> set[str] | None:
    """The tables ``sql`` creates, alters or writes rows of; None when that cannot be read from it."""
    parsed = statements(sql)
    if parsed is None:
        return None
    tables: set[str] = set()
    for node in walk(parsed):
        if isinstance(node, (ast.DoStmt, ast.CallStmt)):
            return None
        if isinstance(node, ast.TruncateStmt):
            tables.update(r.relname for r in node.relations)
        elif isinstance(node, (ast.CreateStmt, ast.AlterTableStmt)) or _describe(node):
            tables.add(_relation(node))
    return tables
