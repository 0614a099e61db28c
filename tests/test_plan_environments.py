"""plan/render/environments.py: the plans of several environments in every output format, a failed
environment's section, the run's exit code, and the envelope's JSON Schema (pure, no servers)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families
from support import run_jsctl

from reconciler.errors import ConnectionFailed, ManifestError, Refused, UserError, keep_secret
from reconciler.jetstream.client import ServerIdentity
from reconciler.jetstream.observe import Live
from reconciler.jetstream.ownership import MANAGED_KEY, OWNER_KEY, Ownership
from reconciler.jetstream.plan import plan_jetstream
from reconciler.manifest.model import STREAM, DeclaredResource, Desired
from reconciler.plan.model import Change, Plan
from reconciler.plan.planfile import environment_plan_path
from reconciler.plan.render.environments import (
    PlanFailed,
    environments_schema,
    exit_code,
    render_environments,
    worst_exit_code,
)

MINE = {MANAGED_KEY: "true", OWNER_KEY: "app"}


def env_plan(server: str, replicas: int) -> Plan:
    """A real planner's plan: ORDERS updated to ``replicas``, OLD (this project's) pruned, NEW created."""
    live = Live(ServerIdentity(server, "id", "2.12.8", None, 3, account="APP"))
    live.streams = {"ORDERS": {"config": {"name": "ORDERS", "subjects": ["orders.>"], "metadata": MINE}},
                    "OLD": {"config": {"name": "OLD", "subjects": ["old.>"], "metadata": MINE},
                            "state": {"messages": 7, "bytes": 70}}}
    desired = Desired({"ORDERS": DeclaredResource(STREAM, "ORDERS", {"name": "ORDERS", "subjects": ["orders.>"],
                                                                     "num_replicas": replicas}),
                       "NEW": DeclaredResource(STREAM, "NEW", {"name": "NEW", "subjects": ["new.>"]})})
    return plan_jetstream(desired, live, prune=True, ownership=Ownership("app"))


SECTIONS = [("dev", env_plan("dev-1", 1)), ("prod", env_plan("prod-1", 3)),
            ("staging", PlanFailed("cannot connect to nats://127.0.0.1:4999: connection refused", 1))]


def test_text_has_one_section_per_environment_and_a_summary_of_each():
    text = render_environments("text", SECTIONS)
    sections = text.split("=== environment ")
    assert [s.split(" ===")[0] for s in sections[1:]] == ["dev", "prod", "staging"]
    assert "stream/OLD  delete" in sections[1] and "num_replicas" in sections[2]
    assert "error: the plan failed (exit 1): cannot connect to nats://127.0.0.1:4999" in sections[3]
    assert text.splitlines()[-3:] == ["  dev: Plan: 1 to create, 1 to delete.",
                                      "  prod: Plan: 1 to create, 1 to update, 1 to delete.",
                                      "  staging: failed (exit 1)"]


def test_a_failure_of_several_lines_keeps_its_lines():
    invalid = PlanFailed.of(ManifestError(["streams.yaml:3:5: max_age: not a duration", "streams.yaml:9:1: x"]))
    text = render_environments("text", [("dev", invalid)])
    assert "error: the plan failed (exit 1): invalid manifests (2 errors):\nstreams.yaml:3:5: max_age" in text
    assert "\nstreams.yaml:9:1: x\n" in text


def test_json_nests_each_plan_as_alone_and_validates_against_the_shipped_schema():
    data = json.loads(render_environments("json", SECTIONS))
    assert data["format_version"] == 1 and [e["name"] for e in data["environments"]] == ["dev", "prod", "staging"]
    assert data["environments"][0]["plan"] == json.loads(render_environments("json", SECTIONS[:1]))[
        "environments"][0]["plan"]
    assert data["environments"][0]["plan"]["context"]["nats"]["server_name"] == "dev-1"
    assert data["environments"][2] == {"name": "staging", "exit_code": 1,
                                       "error": "cannot connect to nats://127.0.0.1:4999: connection refused"}
    schema = environments_schema()
    Draft202012Validator.check_schema(schema)
    assert not list(Draft202012Validator(schema).iter_errors(data))


def test_the_schema_checks_the_nested_plan_too():
    data = json.loads(render_environments("json", SECTIONS[:1]))
    data["environments"][0]["plan"]["changes"][0]["action"] = "explode"
    assert list(Draft202012Validator(environments_schema()).iter_errors(data))
    assert list(Draft202012Validator(environments_schema()).iter_errors(
        {"format_version": 1, "environments": [{"name": "x", "error": "e"}]}))  # a failure needs its exit code


def test_the_schema_is_printed_as_bundled():
    printed = run_jsctl("plan", "--print-environments-schema")
    assert printed.returncode == 0 and json.loads(printed.stdout) == environments_schema()


def test_prometheus_labels_every_sample_with_its_environment_and_says_each_metric_once():
    weird = 'we"ird\\env\nname'
    text = render_environments("prometheus", [*SECTIONS, (weird, Plan())], checked_at=1764236400)
    assert text.count("# HELP jsctl_plan_check_success ") == 1 and text.count("# TYPE jsctl_plan_changes ") == 1
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert "environment" in sample.labels
            found[(sample.name, sample.labels["environment"])] = sample.value
    assert found[("jsctl_plan_changes", "prod")] == 3 and found[("jsctl_plan_destructive_changes", "prod")] == 1
    assert found[("jsctl_plan_check_success", "staging")] == 0 and ("jsctl_plan_changes", "staging") not in found
    assert found[("jsctl_plan_check_success", weird)] == 1  # escaped in the text, read back whole
    assert 'environment="dev",server="dev-1",account="APP"' in text


def test_markdown_gathers_every_destructive_change_at_the_top():
    text = render_environments("markdown", SECTIONS)
    top = text.split("#### Environment")[0]
    assert top.startswith("### jsctl plan: 3 environments\n")
    assert "**2 destructive change(s)**" in top
    assert "> - <code>dev</code>: `stream/OLD` delete" in top and "> - <code>prod</code>: `stream/OLD` delete" in top
    assert "| <code>staging</code> | **the plan failed (exit 1): cannot connect" in top
    assert "#### Environment <code>prod</code>\n\n**Target:** NATS server <code>prod-1</code>" in text
    assert text.rstrip().endswith("> The plan failed (exit 1):\n\n```text\n"
                                  "cannot connect to nats://127.0.0.1:4999: connection refused\n```")


def test_markdown_without_destructive_changes_has_no_caution():
    text = render_environments("markdown", [("dev", Plan([Change("stream/NEW", "create")]))])
    assert "CAUTION" not in text and text.startswith("### jsctl plan: 1 environment\n")


def test_a_failure_keeps_its_code_and_never_its_secrets():
    keep_secret("s3cr3t-password")
    failed = PlanFailed.of(ConnectionFailed("nats://app:s3cr3t-password@127.0.0.1:4222: authorization violation"))
    assert failed.exit_code == 1 and "s3cr3t" not in failed.message and "***" in failed.message
    assert PlanFailed.of(Refused("lock held")).exit_code == 3


@pytest.mark.parametrize(("codes", "worst"), [
    ([], 0), ([0, 0], 0), ([0, 2, 0], 2), ([2, 3], 3), ([3, 1, 2], 1), ([1, 0], 1), ([0, 130, 1], 130)])
def test_worst_exit_code(codes, worst):
    assert worst_exit_code(codes) == worst


def test_exit_code_of_each_environment():
    changes, errors = Plan([Change("stream/NEW", "create")]), Plan(errors=["bad"])
    assert [exit_code(changes, False), exit_code(changes, True), exit_code(Plan(), True)] == [0, 2, 0]
    assert exit_code(errors, True) == 1 and exit_code(PlanFailed("x", 3), False) == 3


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3, unique=True))
def test_any_environment_name_reads_back_from_the_prometheus_labels(names):
    text = render_environments("prometheus", [(name, Plan()) for name in names], checked_at=1)
    read = [sample.labels["environment"] for family in text_string_to_metric_families(text)
            if family.name == "jsctl_plan_check_success" for sample in family.samples]
    assert read == names


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=12))
def test_an_environment_name_is_a_plan_file_of_its_own_or_refused(tmp_path_factory, name):
    directory = tmp_path_factory.getbasetemp() / "plans"
    try:
        path = environment_plan_path(directory, name)
    except UserError as refused:
        assert "cannot name a file" in str(refused)
        return
    assert path.parent == directory and path.name == f"{name}.plan.json"
