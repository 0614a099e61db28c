"""Autogenerate adjustments (pure: Alembic operation objects)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from reconciler.db.autogen import drop_autoincrement


def test_generated_alter_column_carries_no_mysql_only_autoincrement_keywords():
    alter = ops.AlterColumnOp("t", "c", modify_type=sa.BigInteger(), existing_type=sa.Integer(),
                              autoincrement=False, existing_autoincrement=False)
    drop_autoincrement([ops.ModifyTableOps("t", [alter])])
    assert "autoincrement" not in alter.kw and "existing_autoincrement" not in alter.kw
