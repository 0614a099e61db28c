"""The joint plan as a value: joining, refusing destructive changes, and every output format
showing database changes next to JetStream's (pure, no servers)."""

from __future__ import annotations

import json

import click
import pytest

from reconciler.errors import EXIT_REFUSED, Refused
from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.plan.policy import refuse_destructive
from reconciler.plan.render.json import render_json
from reconciler.plan.render.markdown import render_markdown
from reconciler.plan.render.prometheus import render_prometheus
from reconciler.plan.render.text import render_text
from reconciler.reconcile.plan import join

DROP_SQL = "ALTER TABLE rejected_messages DROP COLUMN detail;\nCREATE INDEX ix_t_status ON transactions (status);\n"
REVISION = Change(
    "db/revision/0002", "upgrade", destructive=True, reason="drop detail",
    details={"message": "drop detail", "from": "0001", "file": "versions/0002_drop_detail.py", "sql": DROP_SQL,
             "flags": ["destructive", "long-lock"],
             "risks": [{"sql": "ALTER TABLE rejected_messages DROP COLUMN detail", "flags": ["destructive"],
                        "notes": ["destructive: drops column rejected_messages.detail and its data"]},
                       {"sql": "CREATE INDEX ix_t_status ON transactions (status)", "flags": ["long-lock"],
                        "notes": ["long-lock: CREATE INDEX without CONCURRENTLY locks transactions"]}]},
    desired={"revision": "0002"})
DRIFT = Change("db/column/transactions.amount", "drift", [FieldChange("type", "NUMERIC(30, 6)", "NUMERIC(19, 6)")],
               reason="type differs from the migrations at revision 0001")
STREAM = Change("stream/USER_TXN", "replace", [FieldChange("storage", "file", "memory")], destructive=True,
                reason="the storage type cannot be changed", desired={"name": "USER_TXN", "storage": "memory"})


def joint() -> Plan:
    jetstream = Plan([STREAM], context={"nats": {"server_version": "2.12.8", "api_level": 3}})
    database = Plan([REVISION, DRIFT], context={"database": "postgresql://db:5432/app", "database_revision": "0001",
                                                "database_head": "0002", "database_schema": "sha256:abc"})
    return join([jetstream, database])


def test_join_keeps_jetstream_first_and_both_contexts():
    plan = joint()
    assert [c.address for c in plan.changes] == ["stream/USER_TXN", "db/revision/0002", "db/column/transactions.amount"]
    assert plan.context["nats"]["server_version"] == "2.12.8" and plan.context["database_revision"] == "0001"
    assert plan.has_changes and [c.address for c in plan.pending] == ["stream/USER_TXN", "db/revision/0002"]


def test_destructive_changes_of_both_halves_are_refused_with_what_they_lose():
    with pytest.raises(Refused) as refused:
        refuse_destructive(joint().changes, allow_destructive=False)
    assert str(refused.value) == (
        "destructive changes need --allow-destructive: replace stream/USER_TXN (the storage type cannot be "
        "changed); upgrade db/revision/0002 (drops column rejected_messages.detail and its data)")
    assert refused.value.exit_code == EXIT_REFUSED
    refuse_destructive(joint().changes, allow_destructive=True)


def test_text_shows_revision_sql_flags_risks_and_drift_after_jetstream():
    text = click.unstyle(render_text(joint()))
    assert text.splitlines()[0] == "JetStream: nats-server 2.12.8 (API level 3)"
    expected = ["Database postgresql://db:5432/app: at revision 0001, head 0002",
                "  ~ db/revision/0002  upgrade (drop detail)  [destructive, long-lock]",
                "      from revision 0001 (versions/0002_drop_detail.py)",
                "      | ALTER TABLE rejected_messages DROP COLUMN detail;",
                "      risk: ALTER TABLE rejected_messages DROP COLUMN detail",
                "        destructive: drops column rejected_messages.detail and its data",
                "  ! db/column/transactions.amount  drift (type differs from the migrations at revision 0001)",
                "      type: 'NUMERIC(30, 6)' (live) -> 'NUMERIC(19, 6)' (expected)"]
    assert [line for line in expected if line not in text.splitlines()] == []
    assert text.index("stream/USER_TXN") < text.index("Database ") < text.index("db/revision/0002")
    assert text.splitlines()[-1] == "Plan: 1 to replace, 1 to upgrade. Notes: 1 drift."


def test_markdown_calls_out_dropped_columns_and_shows_the_sql():
    markdown = render_markdown(joint())
    caution = next(block for block in markdown.split("\n\n") if block.startswith("> [!CAUTION]"))
    assert "**2 destructive change(s)**" in caution
    assert "> - `db/revision/0002` upgrade: drops column rejected_messages.detail and its data" in caution
    assert "| `~` | `db/revision/0002` | upgrade | drop detail  [destructive, long-lock] |" in markdown
    assert "```sql\nALTER TABLE rejected_messages DROP COLUMN detail;\nCREATE INDEX" in markdown
    assert "  - long-lock: CREATE INDEX without CONCURRENTLY locks transactions" in markdown
    assert "```diff\n- type: \"NUMERIC(30, 6)\"\n+ type: \"NUMERIC(19, 6)\"\n```" in markdown


def test_json_and_prometheus_count_both_kinds():
    data = json.loads(render_json(joint()))
    assert [(c["address"], c["action"]) for c in data["changes"]] == [
        ("stream/USER_TXN", "replace"), ("db/revision/0002", "upgrade"), ("db/column/transactions.amount", "drift")]
    assert data["changes"][1]["details"]["sql"] == DROP_SQL and data["summary"] == {
        "replace": 1, "upgrade": 1, "drift": 1}
    report = render_prometheus(joint(), 1.0)
    target = 'database="postgresql://db:5432/app"'
    for line in (f'jsctl_plan_resources{{{target},kind="stream",action="replace"}} 1',
                 f'jsctl_plan_resources{{{target},kind="db_revision",action="upgrade"}} 1',
                 f'jsctl_plan_resources{{{target},kind="db_column",action="drift"}} 1',
                 f"jsctl_plan_pending_revisions{{{target}}} 1", f"jsctl_plan_destructive_changes{{{target}}} 2",
                 f"jsctl_plan_drift{{{target}}} 1"):
        assert line in report.splitlines()


def test_a_plan_with_errors_never_says_no_changes():
    uncovered = "schema.yaml changed but no revision covers it"
    alone = Plan(errors=[uncovered])
    text = click.unstyle(render_text(alone)).splitlines()
    assert text == [f"error: {uncovered}", "1 error: nothing can be applied until it is fixed."]
    assert "No changes." not in render_markdown(alone)
    both = join([Plan([STREAM]), Plan([DRIFT], errors=["a", "b"])])
    assert click.unstyle(render_text(both)).splitlines()[-1] == (
        "Plan: 1 to replace. 2 errors: nothing can be applied until they are fixed. Notes: 1 drift.")
    assert render_text(Plan()) == "No changes."
