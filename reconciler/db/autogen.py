"""Autogenerate adjustments, used by every revision generated in this environment (jsctl or alembic CLI).

- No empty revision files: when nothing differs, no file is written.
- Indexes declared ``concurrently: true`` are created and dropped inside
  ``op.get_context().autocommit_block()``, since CONCURRENTLY cannot run in a transaction.
- ``alter_column`` gets no ``autoincrement`` keywords: they mean something on MySQL only, and Alembic
  warns about them on every run against Postgres.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.render import render_op_text
from alembic.operations import ops


class AutocommitBlockOp(ops.MigrateOperation):
    """Operations that must run outside a transaction (CREATE/DROP INDEX CONCURRENTLY)."""

    def __init__(self, operations: list[ops.MigrateOperation]) -> None:
        self.operations = operations

    def reverse(self) -> AutocommitBlockOp:
        return AutocommitBlockOp([op.reverse() for op in reversed(self.operations)])


@renderers.dispatch_for(AutocommitBlockOp)
def _render_autocommit_block(context: Any, op: AutocommitBlockOp) -> list[str]:
    # Alembic's printer indents after a line ending in ":" and dedents at an empty line.
    body = [line for inner in op.operations for line in render_op_text(context, inner).splitlines()]
    return ["with op.get_context().autocommit_block():", *body, ""]


def _concurrently(op: ops.MigrateOperation) -> bool:
    return isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)) and bool(op.kw.get("postgresql_concurrently"))


def isolate_concurrent(operations: list[ops.MigrateOperation]) -> list[ops.MigrateOperation]:
    """Wrap each CONCURRENTLY index operation (also inside per-table groups) in an autocommit block."""
    out: list[ops.MigrateOperation] = []
    for op in operations:
        if isinstance(op, ops.ModifyTableOps):
            concurrent = [inner for inner in op.ops if _concurrently(inner)]
            op.ops = [inner for inner in op.ops if not _concurrently(inner)]
            out.extend([op] if op.ops else [])
            out.extend(AutocommitBlockOp([inner]) for inner in concurrent)
        elif _concurrently(op):
            out.append(AutocommitBlockOp([op]))
        else:
            out.append(op)
    return out


def drop_autoincrement(operations: list[ops.MigrateOperation]) -> None:
    for op in operations:
        if isinstance(op, ops.ModifyTableOps):
            drop_autoincrement(op.ops)
        elif isinstance(op, ops.AlterColumnOp):
            op.kw.pop("autoincrement", None)
            op.kw.pop("existing_autoincrement", None)


def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
    script = directives[0]
    if script.upgrade_ops.is_empty():
        directives[:] = []  # nothing to do: write no file
        return
    drop_autoincrement(script.upgrade_ops.ops)
    drop_autoincrement(script.downgrade_ops.ops)
    script.upgrade_ops.ops = isolate_concurrent(script.upgrade_ops.ops)
    script.downgrade_ops.ops = isolate_concurrent(script.downgrade_ops.ops)
