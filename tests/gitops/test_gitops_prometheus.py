"""`-o prometheus`: checked with prometheus_client's own text-format parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from reconciler.plan.address import Address
from reconciler.plan.model import Change, Plan
from reconciler.plan.render.prometheus import render_prometheus


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_kinds():
    assert [Address(a).kind.label for a in ("stream/A", "consumer/A/B", "db/table/t", "db/revision/0002")] == [
        "stream", "consumer", "db_table", "db_revision"]


def test_report_counts_by_kind_and_action():
    plan = Plan([
        Change("stream/ORDERS", "update"),
        Change("stream/OLD", "replace", destructive=True),
        Change("consumer/ORDERS/A", "create"),
        Change("consumer/ORDERS/B", "create"),
        Change("consumer/ORDERS/C", "drift"),
        Change("stream/BY_HAND", "unmanaged"),
        Change("db/revision/0002", "upgrade"),
        Change("db/revision/0003", "upgrade"),
        Change('db/table/we"ird\\name', "create"),
        Change('od"d\\kind\n/x', "drift"),
    ], errors=["one"])
    text = render_prometheus(plan, 1764236400.5)
    got = samples(text)
    assert got[("jsctl_plan_resources", (("action", "create"), ("kind", "consumer")))] == 2
    assert got[("jsctl_plan_resources", (("action", "drift"), ("kind", "consumer")))] == 1
    assert got[("jsctl_plan_resources", (("action", "unmanaged"), ("kind", "stream")))] == 1
    assert got[("jsctl_plan_resources", (("action", "upgrade"), ("kind", "db_revision")))] == 2
    assert got[("jsctl_plan_resources", (("action", "drift"), ("kind", 'od"d\\kind\n')))] == 1
    assert got[("jsctl_plan_changes", ())] == 7
    assert got[("jsctl_plan_destructive_changes", ())] == 1
    assert got[("jsctl_plan_pending_revisions", ())] == 2
    assert got[("jsctl_plan_drift", ())] == 1
    assert got[("jsctl_plan_errors", ())] == 1
    assert got[("jsctl_plan_check_success", ())] == 1
    assert got[("jsctl_plan_last_check_timestamp_seconds", ())] == 1764236400.5
    assert text.endswith("\n") and "\r" not in text


def test_converged_and_failed_checks():
    converged = samples(render_prometheus(Plan([Change("stream/X", "unmanaged")]), 10))
    assert converged[("jsctl_plan_drift", ())] == 0 and converged[("jsctl_plan_changes", ())] == 0
    failed = samples(render_prometheus(None, 10))
    assert failed == {("jsctl_plan_check_success", ()): 0, ("jsctl_plan_last_check_timestamp_seconds", ()): 10}


def test_every_series_names_the_target():
    context = {"nats": {"server_version": "2.12.8", "server_name": "n1", "api_level": 3, "cluster": None,
                        "account": "APP"}, "database": "postgresql://app:***@db:5432/app"}
    got = samples(render_prometheus(Plan([Change("stream/X", "create")], context=context), 10))
    where = (("account", "APP"), ("database", "postgresql://app:***@db:5432/app"), ("server", "n1"))
    assert all(set(where) <= set(labels) for _, labels in got), got
    assert got[("jsctl_plan_check_success", where)] == 1
    assert got[("jsctl_plan_resources", tuple(sorted((*where, ("kind", "stream"), ("action", "create")))))] == 1
    # A cluster is named, not the node that answered (it changes from run to run); an unknown account is left out.
    clustered = {"nats": {"server_version": "2.12.8", "server_name": "n2", "api_level": 3, "cluster": "C1",
                          "account": None}}
    assert ("jsctl_plan_drift", (("cluster", "C1"),)) in samples(render_prometheus(Plan(context=clustered), 10))
    in_domain = {"nats": {**clustered["nats"], "domain": "leaf"}}
    assert ("jsctl_plan_drift", (("cluster", "C1"), ("domain", "leaf"))) in samples(
        render_prometheus(Plan(context=in_domain), 10))
