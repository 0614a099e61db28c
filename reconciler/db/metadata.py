"""SQLAlchemy MetaData from a SchemaSpec: the target Alembic compares and autogenerates against."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .spec import INTEGER_TYPES, ColumnSpec, ConstraintSpec, IndexSpec, SchemaSpec, TableSpec
from .types import parse_type

_SIMPLE_TYPES = {
    "text": sa.Text,
    "smallint": sa.SmallInteger,
    "integer": sa.Integer,
    "bigint": sa.BigInteger,
    "boolean": sa.Boolean,
    "date": sa.Date,
    "uuid": lambda: postgresql.UUID(as_uuid=True),
    "jsonb": postgresql.JSONB,
    "bytea": postgresql.BYTEA,
    "timestamptz": lambda: postgresql.TIMESTAMP(timezone=True),
}


def sql_type(name: str) -> sa.types.TypeEngine:
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]()
    base, args = parse_type(name)
    if base == "varchar" and len(args) == 1:
        return sa.String(args[0])
    if base == "numeric" and len(args) == 2:
        return sa.Numeric(*args, asdecimal=True)
    raise ValueError(f"unsupported type {name!r}")  # the JSON Schema admits only the types above


def build_metadata(spec: SchemaSpec) -> sa.MetaData:
    metadata = sa.MetaData()  # every name is already final (spec.py applies the naming convention)
    for table in spec.tables:
        _build_table(metadata, table)
    return metadata


def _build_table(metadata: sa.MetaData, table: TableSpec) -> sa.Table:
    return sa.Table(
        table.name, metadata,
        *(_column(c) for c in table.columns),
        *(_constraint(c) for c in table.constraints),
        *(_index(ix) for ix in table.indexes),
        comment=table.comment,
    )


def _column(column: ColumnSpec) -> sa.Column:
    extra: list = [sa.Identity(always=False)] if column.identity else []
    return sa.Column(
        column.name, sql_type(column.type), *extra,
        nullable=column.nullable,
        server_default=sa.text(column.default) if column.default is not None else None,
        comment=column.comment,
        # integers are never implicitly SERIAL; other types need no say (and alter_column warns about it)
        autoincrement=True if column.identity else (False if column.type in INTEGER_TYPES else "auto"),
    )


def _constraint(c: ConstraintSpec) -> sa.Constraint:
    if c.kind == "pk":
        return sa.PrimaryKeyConstraint(*c.columns, name=c.name)
    if c.kind == "uq":
        return sa.UniqueConstraint(*c.columns, name=c.name)
    if c.kind == "ck":
        return sa.CheckConstraint(sa.text(c.expression), name=c.name)
    return sa.ForeignKeyConstraint(
        list(c.columns), [f"{c.ref_table}.{col}" for col in c.ref_columns], name=c.name,
        ondelete=c.on_delete.upper() if c.on_delete else None,
        onupdate=c.on_update.upper() if c.on_update else None,
    )


def _index(ix: IndexSpec) -> sa.Index:
    kwargs = {}
    if ix.where:
        kwargs["postgresql_where"] = sa.text(ix.where)
    if ix.concurrently:
        kwargs["postgresql_concurrently"] = True
    return sa.Index(ix.name, *ix.columns, unique=ix.unique, **kwargs)
