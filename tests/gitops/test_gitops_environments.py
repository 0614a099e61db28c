"""Saved plans bound to their environment and target, on real servers: a plan saved for dev is refused
for prod, by environment before connecting and by the server's identity when only the connection differs."""

from __future__ import annotations

import asyncio
import json

import pytest

from reconciler.errors import EXIT_REFUSED, Refused
from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.settings import NatsSettings
from reconciler.plan.address import JETSTREAM
from reconciler.plan.planfile import SavedPlan, environment_plan_path, write_environment_plans
from reconciler.plan.policy import ApplyOptions
from reconciler.reconcile import Console, Target, apply_all, plan_all


def _console() -> Console:
    def refuse(plan):
        raise AssertionError("a saved plan is applied without asking")

    return Console(show=lambda text: None, tell=lambda text: None, confirm=refuse)


def _target(url: str, environment: str | None) -> Target:
    return Target(NatsSettings(url=url), ("streams.yaml", "consumers.yaml"), ownership=Ownership("user-txn"),
                  only=JETSTREAM, environment=environment)


def test_a_plan_saved_for_dev_is_refused_for_prod_before_connecting(js_account, project, monkeypatch, tmp_path):
    monkeypatch.chdir(project)
    plan, basis = asyncio.run(plan_all(_target(js_account, "dev")))
    assert basis is not None and basis.environment == "dev" and basis.configuration.startswith("sha256:")
    (written,) = write_environment_plans(tmp_path / "plans", [("dev", SavedPlan(plan, basis))])
    assert written == environment_plan_path(tmp_path / "plans", "dev")
    assert json.loads(written.read_text())["basis"]["target"]["server"] == "jsctl-dev"
    # prod's server is not even reachable: the environment refuses first, in one line naming both
    with pytest.raises(Refused) as refused:
        asyncio.run(apply_all(_target("nats://127.0.0.1:1", "prod"), ApplyOptions(), _console(), str(written)))
    assert str(refused.value).startswith("the saved plan was made for environment dev, this is environment prod:")
    applied = asyncio.run(apply_all(_target(js_account, "dev"), ApplyOptions(), _console(), str(written)))
    assert applied is not None and applied.jetstream_requests > 0


def test_a_plan_saved_against_one_server_is_refused_on_another(js_account, nats_server_factory, project, jsctl):
    prod = nats_server_factory(server_name="prod-1")
    made = jsctl("plan", "--out", "dev.plan.json", "--server", js_account, cwd=project)
    assert made.returncode == 0, made.stderr
    refused = jsctl("apply", "dev.plan.json", "--server", prod.url, cwd=project)
    assert refused.returncode == EXIT_REFUSED
    assert refused.stderr.count("\n") == 1 and "the target differs: the plan was made against server jsctl-dev" in \
        refused.stderr and "this is server prod-1" in refused.stderr
    assert json.loads(jsctl("plan", "-o", "json", "--server", prod.url, cwd=project).stdout)["changes"][0][
        "action"] == "create"  # nothing was applied on prod
