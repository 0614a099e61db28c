"""The desired schema as plain values, built from validated schema.yaml data (pure, no SQLAlchemy).

Every constraint and index gets its final name here (explicit, or from the naming convention),
because unnamed constraints are invisible to comparison and semantic checks need the names.
The SQL fragments (defaults, checks, index predicates) must each be one SQL expression, and types
within the server's limits: jsctl pastes them into DDL, so anything else would reach Postgres as
other SQL, or fail there half-way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .pgsql import Expression, parse_expression
from .types import type_problem

DEFAULT_NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}
MAX_IDENTIFIER = 63  # Postgres NAMEDATALEN - 1: longer names are silently truncated
INTEGER_TYPES = ("smallint", "integer", "bigint")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str  # as written: text, varchar(n), numeric(p,s), ...
    nullable: bool = False
    default: str | None = None  # SQL expression
    identity: bool = False
    comment: str | None = None


@dataclass(frozen=True)
class ConstraintSpec:
    kind: str  # "pk" | "uq" | "fk" | "ck"
    name: str
    columns: tuple[str, ...] = ()
    expression: str | None = None  # ck
    ref_table: str | None = None  # fk
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True)
class IndexSpec:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    concurrently: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    constraints: tuple[ConstraintSpec, ...] = ()
    indexes: tuple[IndexSpec, ...] = ()
    comment: str | None = None

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class SchemaSpec:
    tables: tuple[TableSpec, ...]
    naming_convention: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NAMING_CONVENTION))

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)


@dataclass(frozen=True)
class Problem:
    """A semantic error at a path of the YAML document (positions are added by the loader)."""

    path: tuple[str | int, ...]
    message: str


def render_name(template: str, table: str, columns: tuple[str, ...] = (), constraint: str = "",
                referred_table: str = "") -> str:
    tokens = {
        "table_name": table,
        "column_0_name": columns[0] if columns else "",
        "column_0_N_name": "_".join(columns),
        "column_0N_name": "".join(columns),
        "constraint_name": constraint,
        "referred_table_name": referred_table,
    }
    return re.sub(r"%\((\w+)\)s", lambda m: tokens.get(m.group(1), m.group(0)), template)


def _default_sql(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_spec(data: dict[str, Any], server_version: int | None = None) -> tuple[SchemaSpec, list[Problem]]:
    """Turn JSON-Schema-valid data into a SchemaSpec and the semantic problems found (all of them).

    ``server_version``: the major version of the target Postgres, whose type limits apply (None: the newest's).
    """
    convention = {**DEFAULT_NAMING_CONVENTION, **(data.get("naming_convention") or {})}
    problems: list[Problem] = []
    tables = [_build_table(raw, ("tables", i), convention, problems, server_version)
              for i, raw in enumerate(data["tables"])]
    spec = SchemaSpec(tuple(tables), convention)
    problems += _check_names(spec)
    problems += _check_references(spec)
    return spec, problems


def _build_table(raw: dict[str, Any], at: tuple, convention: dict[str, str], problems: list[Problem],
                 server_version: int | None) -> TableSpec:
    name = raw["name"]
    columns = tuple(
        ColumnSpec(c["name"], c["type"].replace(", ", ","), c.get("nullable", False), _default_sql(c.get("default")),
                   c.get("identity", False), c.get("comment"))
        for c in raw["columns"])
    known: set[str] = set()
    for i, column in enumerate(columns):
        if column.name in known:
            problems.append(Problem((*at, "columns", i, "name"), f"duplicate column {column.name!r} in table {name!r}"))
        known.add(column.name)
        if column.identity and column.type not in INTEGER_TYPES:
            problems.append(Problem((*at, "columns", i, "identity"), "identity needs smallint, integer or bigint"))
        if column.identity and column.default is not None:
            problems.append(Problem((*at, "columns", i, "default"), "an identity column cannot have a default"))
        if problem := type_problem(column.type, server_version):
            problems.append(Problem((*at, "columns", i, "type"), problem))
        if column.default is not None:
            _expression(column.default, (*at, "columns", i, "default"), problems, columns=None)

    def cols(path: tuple, names: list[str]) -> tuple[str, ...]:
        for j, col in enumerate(names):
            if col not in known:
                problems.append(Problem((*path, j), f"unknown column {col!r} in table {name!r}"))
        return tuple(names)

    constraints: list[ConstraintSpec] = []
    if "primary_key" in raw:
        pk = cols((*at, "primary_key"), raw["primary_key"])
        constraints.append(ConstraintSpec("pk", render_name(convention["pk"], name, pk), pk))
    for i, uq in enumerate(raw.get("unique", [])):
        uq_cols = cols((*at, "unique", i, "columns"), uq["columns"])
        uq_name = uq.get("name") or render_name(convention["uq"], name, uq_cols)
        constraints.append(ConstraintSpec("uq", uq_name, uq_cols))
    for i, fk in enumerate(raw.get("foreign_keys", [])):
        fk_cols = cols((*at, "foreign_keys", i, "columns"), fk["columns"])
        ref = fk["references"]
        if len(ref["columns"]) != len(fk_cols):
            problems.append(Problem((*at, "foreign_keys", i, "references", "columns"),
                                    f"{len(fk_cols)} column(s) cannot reference {len(ref['columns'])}"))
        constraints.append(ConstraintSpec(
            "fk", fk.get("name") or render_name(convention["fk"], name, fk_cols, referred_table=ref["table"]),
            fk_cols, ref_table=ref["table"], ref_columns=tuple(ref["columns"]),
            on_delete=fk.get("on_delete"), on_update=fk.get("on_update")))
    for i, ck in enumerate(raw.get("checks", [])):
        _expression(ck["expression"], (*at, "checks", i, "expression"), problems, columns=(name, known))
        constraints.append(ConstraintSpec("ck", render_name(convention["ck"], name, constraint=ck["name"]),
                                          expression=ck["expression"]))
    indexes = []
    for i, ix in enumerate(raw.get("indexes", [])):
        ix_cols = cols((*at, "indexes", i, "columns"), ix["columns"])
        if ix.get("where") is not None:
            _expression(ix["where"], (*at, "indexes", i, "where"), problems, columns=(name, known))
        indexes.append(IndexSpec(ix.get("name") or render_name(convention["ix"], name, ix_cols), ix_cols,
                                 ix.get("unique", False), ix.get("where"), ix.get("concurrently", False)))
    return TableSpec(name, columns, tuple(constraints), tuple(indexes), raw.get("comment"))


def _expression(text: str, at: tuple, problems: list[Problem], columns: tuple[str, set[str]] | None) -> None:
    """``text`` must be one SQL expression; ``columns``: (table, its columns) it may refer to, None: none."""
    parsed = parse_expression(text, columns_allowed=columns is not None)
    if not isinstance(parsed, Expression):
        problems.append(Problem(at, parsed))
        return
    table, known = columns or ("", set())
    for column in sorted(set(parsed.columns) - known):
        problems.append(Problem(at, f"unknown column {column!r} in table {table!r}"))


def _named_paths(spec: SchemaSpec) -> Iterator[tuple[str, tuple]]:
    """(name, YAML path) of every table, constraint and index, in document order."""
    for i, table in enumerate(spec.tables):
        yield table.name, ("tables", i, "name")
        at = ("tables", i)
        items = {kind: [c for c in table.constraints if c.kind == kind] for kind in ("pk", "uq", "fk", "ck")}
        yield from ((c.name, (*at, "primary_key")) for c in items["pk"])
        yield from ((c.name, (*at, "unique", j)) for j, c in enumerate(items["uq"]))
        yield from ((c.name, (*at, "foreign_keys", j)) for j, c in enumerate(items["fk"]))
        yield from ((c.name, (*at, "checks", j)) for j, c in enumerate(items["ck"]))
        yield from ((ix.name, (*at, "indexes", j)) for j, ix in enumerate(table.indexes))


def _check_names(spec: SchemaSpec) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, tuple] = {}
    for name, where in _named_paths(spec):
        if len(name) > MAX_IDENTIFIER:
            problems.append(Problem(where, f"name {name!r} is longer than {MAX_IDENTIFIER} characters: "
                                           "give it a shorter explicit name"))
        elif name in seen:
            problems.append(Problem(where, f"duplicate name {name!r}: table, constraint and index names "
                                           "must be unique in the schema"))
        seen.setdefault(name, where)
    return problems


def _check_references(spec: SchemaSpec) -> list[Problem]:
    problems: list[Problem] = []
    for i, table in enumerate(spec.tables):
        fks = [c for c in table.constraints if c.kind == "fk"]
        for j, fk in enumerate(fks):
            at = ("tables", i, "foreign_keys", j, "references")
            target = spec.table(fk.ref_table or "")
            if target is None:
                problems.append(Problem((*at, "table"), f"foreign key to unknown table {fk.ref_table!r}"))
                continue
            for k, col in enumerate(fk.ref_columns):
                if target.column(col) is None:
                    problems.append(Problem((*at, "columns", k), f"unknown column {col!r} in table {target.name!r}"))
    return problems
