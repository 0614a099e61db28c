"""The JSON Schema shipped for `jsctl plan -o json` describes real plans: JetStream changes of every
action, pending revisions with risks, an adoption, drift, errors, and the plan inside a saved plan file."""

from __future__ import annotations

import json

from glue_helpers import DROP_DETAIL, add_revision, sql
from jsonschema import Draft202012Validator

from reconciler.db import upgrade_to_head
from reconciler.db.settings import DatabaseSettings
from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.observe import Live
from reconciler.jetstream.ownership import MANAGED_KEY, OWNER_KEY, Ownership
from reconciler.jetstream.plan import plan_jetstream
from reconciler.manifest.model import CONSUMER, STREAM, DeclaredResource, Desired
from reconciler.plan.render.json import json_schema_text, render_json

SCHEMA = json.loads(json_schema_text())


def valid(data: dict) -> dict:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft202012Validator(SCHEMA).iter_errors(data)]
    assert not errors, errors
    return data


def test_the_schema_is_a_schema_and_printed_as_shipped(run):
    Draft202012Validator.check_schema(SCHEMA)
    printed = run("plan", "--print-schema")
    assert printed.returncode == 0 and json.loads(printed.stdout) == SCHEMA


def test_jetstream_plans_of_every_action_and_errors_are_valid():
    mine = {MANAGED_KEY: "true", OWNER_KEY: "app"}
    live = Live(ServerIdentity("n1", "id", "2.10.25", None, 0), offline_streams={"GONE": ""})
    live.streams = {name: {"config": {"name": name, "subjects": [f"{name.lower()}.>"], "storage": "file", **extra},
                           "state": {"messages": 3, "bytes": 30, "consumer_count": 1}}
                    for name, extra in (("KEPT", {"metadata": mine}), ("FOREIGN", {}), ("OLD", {"metadata": mine}),
                                        ("BY_HAND", {}))}
    live.consumers = {("KEPT", "C"): {"name": "C", "config": {"durable_name": "C", "ack_policy": "explicit",
                                                              "metadata": mine}, "num_pending": 1}}
    desired = Desired({"KEPT": DeclaredResource(STREAM, "KEPT", {"name": "KEPT", "subjects": ["kept.>"],
                                                                 "storage": "memory"}),
                       "FOREIGN": DeclaredResource(STREAM, "FOREIGN", {"name": "FOREIGN", "subjects": ["foreign.>"],
                                                                       "max_msgs": 5}),
                       "NEW": DeclaredResource(STREAM, "NEW", {"name": "NEW", "allow_msg_ttl": True}),
                       "GONE": DeclaredResource(STREAM, "GONE", {"name": "GONE"})},
                      {("KEPT", "D"): DeclaredResource(CONSUMER, "D", {"durable_name": "D"}, stream="KEPT")})
    live.streams["THEIRS"] = {"config": {"name": "THEIRS", "metadata": {MANAGED_KEY: "true", OWNER_KEY: "other"}}}
    plan = plan_jetstream(desired, live, prune=True, ownership=Ownership("app"))
    data = valid(json.loads(render_json(plan)))
    assert {c["action"] for c in data["changes"]} >= {"create", "update", "replace", "delete", "unmanaged", "offline"}
    assert data["errors"] and any(c["details"].get("adopts") for c in data["changes"])
    assert {c["address"]: c["details"]["owner"] for c in data["changes"] if "owner" in c["details"]} == {
        "stream/THEIRS": "other"}


def test_real_plans_are_valid_from_empty_to_risky_revisions_and_drift(run, project, database_url):
    first = run("plan", "-o", "json", "--out", "first.json")
    assert first.returncode == 0, first.stderr
    valid(json.loads(first.stdout))
    valid(json.loads((project / "first.json").read_text())["plan"])
    assert valid(json.loads(run("plan", "-o", "json", "--database-url", "").stdout))["changes"]  # JetStream alone
    assert run("apply", "--yes").returncode == 0
    add_revision(project, *DROP_DETAIL)
    sql(database_url, "ALTER TABLE transactions ADD COLUMN extra integer")
    risky = valid(json.loads(run("plan", "-o", "json").stdout))
    assert {c["action"] for c in risky["changes"]} == {"upgrade", "drift"} and risky["errors"] == []
    (upgrade,) = [c for c in risky["changes"] if c["action"] == "upgrade"]
    assert upgrade["destructive"] and upgrade["details"]["risks"]


def test_an_adoption_is_valid(run, project, database_url):
    upgrade_to_head(DatabaseSettings(database_url), project / "migrations")
    sql(database_url, "DROP TABLE alembic_version")
    adoption = valid(json.loads(run("plan", "-o", "json", "--adopt").stdout))
    assert [c["action"] for c in adoption["changes"] if c["address"].startswith("db/")] == ["adopt"]
