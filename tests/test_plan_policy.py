"""plan/policy.py: the one definition of a destructive change, judged on the live state (pure)."""

from __future__ import annotations

import pytest

from reconciler.db.risk import assess
from reconciler.plan.details import DESTRUCTIVE, LONG_LOCK, LOSSY, MODIFIES_DATA, Details, Finding, RevisionInfo, Risk
from reconciler.plan.model import Action
from reconciler.plan.policy import LOSES_DATA, is_destructive


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
    assert is_destructive(Action.UPGRADE, unknown, live={"u"})  # not known what: assume the worst
    assert is_destructive(Action.UPGRADE, unknown, live={"other.t"})  # a table of another schema
    assert not is_destructive(Action.UPGRADE, unknown, live=set())  # but an empty database has nothing to lose


@pytest.mark.parametrize(("sql", "flag", "relation"), [
    ("DROP TABLE t", DESTRUCTIVE, "t"), ('ALTER TABLE "t" DROP COLUMN c', DESTRUCTIVE, "t"),
    ("ALTER TABLE t DROP CONSTRAINT ck", DESTRUCTIVE, "t"),
    ("DROP INDEX CONCURRENTLY IF EXISTS ix_t_c", DESTRUCTIVE, "ix_t_c"),
    ("TRUNCATE TABLE t", MODIFIES_DATA, "t"), ("DELETE FROM ONLY t", MODIFIES_DATA, "t"),
    ("UPDATE t SET c = 1 WHERE id = 1", MODIFIES_DATA, "t"), ("ALTER TABLE t ALTER COLUMN n TYPE DATE", LOSSY, "t"),
])
def test_each_finding_that_loses_data_names_what_it_touches(sql, flag, relation):
    (risk,) = assess([(sql, True)], {("t", "n"): "timestamp with time zone"})
    assert [(f.flag, f.relation) for f in risk.findings if f.flag in LOSES_DATA] == [(flag, relation)]


def test_data_changes_and_lossy_casts_count_like_drops():
    for flag in (MODIFIES_DATA, LOSSY):
        change = upgrade(Finding(flag, "changes t", "t"))
        assert is_destructive(Action.UPGRADE, change, live={"t"}) and not is_destructive(Action.UPGRADE, change)


def test_findings_keep_their_json_spelling():
    risk = Risk.from_dict({"sql": "DROP TABLE t", "flags": ["destructive"],
                           "notes": ["destructive: drops table t and its data"]})
    assert risk.findings == [Finding(DESTRUCTIVE, "drops table t and its data")]
    assert risk.to_dict() == {"sql": "DROP TABLE t", "flags": ["destructive"],
                              "notes": ["destructive: drops table t and its data"]}
