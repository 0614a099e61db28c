"""A fingerprint of the live schema, for saved plans: a plan applies only to the schema it was made on.

Postgres' own catalog describes every table, column, index, constraint and comment of the public
schema (``format_type``, ``pg_get_indexdef``, ``pg_get_constraintdef``: the text ``\\d`` shows), and its
functions, triggers and views (code_objects.py, with their deparsed definitions: the server is compared
with itself); the fingerprint is the digest of that description, so any DDL someone runs by hand changes it.
Alembic's version table is left out: the revision is compared on its own.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..plan.planfile import digest
from .alembic_env import VERSION_TABLE
from .code_objects import observe_objects
from .diff import SCHEMA

_QUERIES = {
    "tables": """
        SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relname <> %(version)s""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
               pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relname <> %(version)s""",
    "indexes": """
        SELECT c.relname, pg_get_indexdef(c.oid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND t.relname <> %(version)s""",
    "constraints": """
        SELECT t.relname, k.conname, pg_get_constraintdef(k.oid), k.convalidated
        FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = k.connamespace
        WHERE n.nspname = %(schema)s AND t.relname <> %(version)s""",
}


def schema_fingerprint(connection: sa.Connection) -> str:
    """``sha256:...`` of the catalog's description of the live schema (sorted, so order never matters)."""
    parameters = {"schema": SCHEMA, "version": VERSION_TABLE}
    description = {kind: sorted([str(value) for value in row] for row in
                                connection.exec_driver_sql(query, parameters).all())
                   for kind, query in _QUERIES.items()}
    connection.rollback()
    description["objects"] = observe_objects(connection, definitions=True)
    return digest(description)
