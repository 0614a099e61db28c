"""Comparing server defaults during autogenerate and drift checks, without internal errors.

Alembic compares a live default with the expected one by running ``SELECT <live> = <expected>`` on
the database. When the column's type changes as well, the two need not be comparable at all
(``SELECT 0 = false``: integer against boolean), so then the texts are compared; any other failure of
that query is a one-line error naming the column. Alembic picks its implementation per dialect
name, so registering this subclass for "postgresql" is how every comparison in the process gets it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.ddl.postgresql import PostgresqlImpl
from sqlalchemy.dialects import postgresql

from ..errors import UserError
from .connect import first_line
from .types import parse_type


def render_type(type_: Any) -> str:
    return str(type_.compile(dialect=postgresql.dialect())) if type_ is not None else "?"


class GuardedPostgresqlImpl(PostgresqlImpl):
    __dialect__ = "postgresql"

    def compare_server_default(self, inspector_column: sa.Column, metadata_column: sa.Column,
                               rendered_metadata_default: str | None,
                               rendered_inspector_default: str | None) -> bool:
        if parse_type(render_type(inspector_column.type)) != parse_type(render_type(metadata_column.type)):
            return rendered_inspector_default != rendered_metadata_default
        try:
            with self.connection.begin_nested():
                return bool(super().compare_server_default(inspector_column, metadata_column,
                                                           rendered_metadata_default, rendered_inspector_default))
        except sa.exc.DBAPIError as exc:
            column = f"{metadata_column.table.name}.{metadata_column.name}"
            raise UserError(f"cannot compare the default of {column} ({rendered_inspector_default} now, "
                            f"{rendered_metadata_default} expected): {first_line(exc)}") from None
