"""plan/policy.py: the one definition of a destructive change, judged on the live state (pure)."""

from __future__ import annotations

import pytest

from reconciler.db.risk import assess
from reconciler.plan.details import DESTRUCTIVE, LONG_LOCK, Details, Finding, RevisionInfo, Risk
from reconciler.plan.model import Action
from reconciler.plan.policy import is_destructive


def upgrade(*findings: Finding) -> Details:
    return Details("a revision", RevisionInfo("0001", "versions/0002.py", "SQL;", [Risk("SQL", list(findings))]))


@pytest.mark.parametrize("action", [Action.REPLACE, Action.DELETE])
def test_a_replace_or_delete_always_loses_the_resource(action):
    assert is_destructive(action)
    assert is_destructive(action, Details(destroys={"messages": 0, "bytes": 0}))  # even empty: new sequences


@pytest.mark.parametrize("action", [Action.CREATE, Action.UPDATE, Action.ADOPT, Action.UPGRADE, Action.DRIFT])
def test_other_changes_lose_nothing_by_themselves(action):
    assert not is_destructive(action)
    assert not is_destructive(action, upgrade(Finding(LONG_LOCK, "locks t", "t")), live={"t"})


def test_a_revision_is_destructive_where_what_it_drops_exists_now():
    drop = upgrade(Finding(LONG_LOCK, "locks u", "u"), Finding(DESTRUCTIVE, "drops column t.c and its data", "t"))
    assert is_destructive(Action.UPGRADE, drop, live={"t", "u"})
    assert not is_destructive(Action.UPGRADE, drop, live=set())  # an empty database
    assert not is_destructive(Action.UPGRADE, drop, live={"u"})  # t comes from an earlier pending revision
    unknown = upgrade(Finding(DESTRUCTIVE, "drops something", None))
    assert is_destructive(Action.UPGRADE, unknown, live=set())  # not known what: assume the worst


@pytest.mark.parametrize(("sql", "relation"), [
    ("DROP TABLE t", "t"), ('ALTER TABLE "t" DROP COLUMN c', "t"), ("ALTER TABLE t DROP CONSTRAINT ck", "t"),
    ("DROP INDEX CONCURRENTLY IF EXISTS ix_t_c", "ix_t_c"), ("TRUNCATE TABLE t", "t"), ("DELETE FROM ONLY t", "t"),
    ("DELETE FROM t WHERE id = 1", "t"),
])
def test_each_drop_names_what_it_drops(sql, relation):
    (risk,) = assess([(sql, True)], {})
    assert [(f.flag, f.relation) for f in risk.findings] == [(DESTRUCTIVE, relation)]


def test_findings_keep_their_json_spelling():
    risk = Risk.from_dict({"sql": "DROP TABLE t", "flags": ["destructive"],
                           "notes": ["destructive: drops table t and its data"]})
    assert risk.findings == [Finding(DESTRUCTIVE, "drops table t and its data")]
    assert risk.to_dict() == {"sql": "DROP TABLE t", "flags": ["destructive"],
                              "notes": ["destructive: drops table t and its data"]}
