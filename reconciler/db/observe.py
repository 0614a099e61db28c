"""What a live database holds now: its Alembic history, revision, tables and column types (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from .alembic_env import VERSION_TABLE, migration_context
from .diff import SCHEMA


def current_revision(connection: sa.Connection) -> str | None:
    return migration_context(connection).get_current_revision()


def has_history(connection: sa.Connection) -> bool:
    """Whether Alembic manages the database (its version table exists)."""
    return sa.inspect(connection).has_table(VERSION_TABLE, schema=SCHEMA)


def user_tables(connection: sa.Connection) -> list[str]:
    """Tables in the public schema other than Alembic's version table."""
    return sorted(t for t in sa.inspect(connection).get_table_names(schema=SCHEMA) if t != VERSION_TABLE)


def index_names(connection: sa.Connection) -> list[str]:
    rows = connection.exec_driver_sql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('i', 'I') ORDER BY 1", (SCHEMA,)).all()
    return [name for (name,) in rows]


def tables_elsewhere(connection: sa.Connection) -> list[str]:
    """Tables of the database outside the public schema (``schema.table``), the system's left out."""
    rows = connection.exec_driver_sql(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname <> %s AND n.nspname <> 'information_schema' "
        "AND n.nspname NOT LIKE 'pg\\_%%' ORDER BY 1", (SCHEMA,)).all()
    return [name for (name,) in rows]


@dataclass
class LiveState:
    managed: bool  # Alembic's version table exists
    revision: str | None
    tables: list[str]
    indexes: list[str]
    elsewhere: list[str] = field(default_factory=list)  # tables of other schemas, as schema.table

    @property
    def foreign(self) -> bool:
        """Tables, but no Alembic history: someone else's database, or one to adopt."""
        return not self.managed and bool(self.tables)

    @property
    def relations(self) -> set[str]:
        """What a revision could lose something of: the tables and indexes there are now (those of
        other schemas too, qualified: code jsctl cannot read could reach them). Empty: nothing to lose."""
        return {*self.tables, *self.indexes, *self.elsewhere}


def observe(connection: sa.Connection) -> LiveState:
    managed = has_history(connection)
    state = LiveState(managed, current_revision(connection) if managed else None, user_tables(connection),
                      index_names(connection), tables_elsewhere(connection))
    connection.rollback()
    return state


def column_types(connection: sa.Connection) -> dict[tuple[str, str], str]:
    rows = connection.exec_driver_sql(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped").all()
    connection.rollback()
    return {(table, column): type_ for table, column, type_ in rows}
