"""Alembic differences -> drift notes and messages (pure)."""

from __future__ import annotations

import sqlalchemy as sa

from reconciler.db.diff import Sides, drift_changes, summarize
from reconciler.plan.model import Action, FieldChange

META = sa.MetaData()
T = sa.Table("t", META, sa.Column("a", sa.Integer), sa.Column("b", sa.Text))
IX = sa.Index("ix_t_a", T.c.a)
SIDES = Sides(expected="the migrations at revision 0001")


def test_added_removed_and_modified_become_one_note_per_address():
    diffs = [
        ("add_column", None, "t", sa.Column("c", sa.Text)),
        ("remove_index", IX),
        ("remove_table", sa.Table("extra", sa.MetaData())),
        [("modify_type", None, "t", "a", {}, sa.BigInteger(), sa.Integer()),
         ("modify_default", None, "t", "a", {}, None, sa.DefaultClause(sa.text("0")))],
    ]
    changes = {c.address: c for c in drift_changes(diffs, SIDES)}
    assert set(changes) == {"db/column/t.c", "db/index/ix_t_a", "db/table/extra", "db/column/t.a"}
    assert all(c.action == Action.DRIFT and not c.changes_something for c in changes.values())
    assert changes["db/column/t.c"].reason == "missing from the database"
    assert changes["db/index/ix_t_a"].reason == "in the database, not in the migrations at revision 0001"
    assert changes["db/column/t.a"].diff == [FieldChange("type", "BIGINT", "INTEGER"),
                                             FieldChange("default", None, "0")]
    assert changes["db/column/t.a"].reason == "type, default differ from the migrations at revision 0001"


def test_summary_is_one_line():
    line = summarize([("add_fk", sa.ForeignKeyConstraint(["a"], ["u.id"], name="fk_t_a_u")),
                      ("modify_nullable", None, "t", "b", {}, True, False)],
                     Sides("the migrations at head", "schema.yaml"))
    assert line == ("db/constraint/fk_t_a_u (missing from the migrations at head), "
                    "db/column/t.b (nullable: True -> False)")
