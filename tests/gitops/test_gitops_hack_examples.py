"""The drift-check examples in hack/ really run: their exact jsctl commands, against a server configured
with hack/nats-server.conf, as its read-only user, in a copy of the repository's manifests. (The CI
workflow runs in test_gitops_workflow.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from gitops_helpers import HACK, js_request
from prometheus_client.parser import text_string_to_metric_families
from support import kubernetes_pod

PLAN_SEED, APPLY_SEED, APP_SEED = (str(HACK / name) for name in ("plan-seed.txt", "apply-seed.txt", "seed.txt"))
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def cronjob_container() -> dict:
    cronjob = yaml.safe_load((HACK / "drift-cronjob.yaml").read_text())
    assert cronjob["apiVersion"] == "batch/v1" and cronjob["kind"] == "CronJob"
    assert len(cronjob["spec"]["schedule"].split()) == 5
    (container,) = kubernetes_pod(HACK / "drift-cronjob.yaml")["containers"]
    return container


def crontab() -> tuple[dict[str, str], list[str]]:
    variables, jobs = {}, []
    for line in (HACK / "crontab").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, _, value = line.partition("=")
            variables[name] = value
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6 and all(CRON_FIELD.match(f) for f in fields[:5]), line
        jobs.append(fields[5])
    return variables, jobs


@pytest.fixture
def env(nats_server_factory, project) -> dict[str, str]:
    server = nats_server_factory(config_file=HACK / "nats-server.conf")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "NATS_URL": server.url, "NATS_NKEY": PLAN_SEED}


def shell(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("manifest", ["drift-cronjob.yaml", "worker-deployment.yaml"])
def test_kubernetes_containers_run_jsctl_with_real_options(manifest):
    import click

    from reconciler.cli import cli

    for container in kubernetes_pod(HACK / manifest)["containers"]:
        assert container["command"] == ["jsctl"]
        name, *args = container["args"]
        command = cli.get_command(click.Context(cli), name)
        command.make_context(name, list(args))  # raises on an unknown option or a bad value


def test_crontab_parses():
    assert len(crontab()[1]) == 1


def test_drift_checks_as_the_read_only_user(env, project, tmp_path):
    applied = shell("jsctl apply --yes", {**env, "NATS_NKEY": APPLY_SEED}, project)
    assert applied.returncode == 0, applied.stderr

    container = cronjob_container()
    pod_env = {**env, **{e["name"]: env[e["name"]] for e in container["env"]}}  # same names, test values

    def cronjob() -> subprocess.CompletedProcess:
        return subprocess.run(container["command"] + container["args"], env=pod_env, cwd=project,
                              capture_output=True, text=True, timeout=120)

    variables, (job,) = crontab()
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    cron_env = {**env, **variables, "JSCTL_DIR": str(project), "TEXTFILE_DIR": str(textfile_dir),
                "NATS_URL": env["NATS_URL"], "NATS_NKEY": PLAN_SEED}

    def cron_report() -> dict[str, float]:
        shell(job, cron_env, tmp_path)
        assert not (textfile_dir / "jsctl.prom.tmp").exists()
        text = (textfile_dir / "jsctl.prom").read_text()
        return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
                if "kind" not in s.labels}

    converged = cronjob()
    assert converged.returncode == 0, converged.stderr
    assert json.loads(converged.stdout)["changes"] == []
    report = cron_report()
    assert report["jsctl_plan_check_success"] == 1 and report["jsctl_plan_drift"] == 0

    # Someone edits the stream by hand: both checks see drift.
    live = js_request(env["NATS_URL"], "STREAM.INFO.USER_TXN", nkey=APP_SEED)["config"]
    js_request(env["NATS_URL"], "STREAM.UPDATE.USER_TXN", {**live, "max_msgs": 777}, nkey=APP_SEED)
    drifted = cronjob()
    assert drifted.returncode == 2
    assert [c["address"] for c in json.loads(drifted.stdout)["changes"]] == ["stream/USER_TXN"]
    report = cron_report()
    assert report["jsctl_plan_drift"] == 1 and report["jsctl_plan_changes"] == 1

    # The server goes away: the report says the check failed, and when it ran.
    cron_env["NATS_URL"] = "nats://127.0.0.1:1"
    report = cron_report()
    assert report["jsctl_plan_check_success"] == 0 and "jsctl_plan_drift" not in report

