"""The pipeline's NATS users of hack/nats-server.conf on every supported server version: the read-only
PLAN user plans (text and JSON, with and without consumers) and is refused apply in one line; the
APPLY user applies every kind of change (create, update, replace, pause, prune, the lock) and may
touch nothing of the application's subjects."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers_matrix import server_binary, version_line
from support import HACK, REPO

from reconciler.dev.servers import NatsServer
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

PLAN_SEED, APPLY_SEED, APP_SEED = (str(HACK / name) for name in ("plan-seed.txt", "apply-seed.txt", "seed.txt"))


@pytest.fixture
def server(nats_server_version, tmp_path_factory) -> NatsServer:
    server = NatsServer(tmp_path_factory.mktemp("nats-perms"), binary=str(server_binary(nats_server_version)),
                        config_file=HACK / "nats-server.conf").start()
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("streams.yaml", "consumers.yaml", "jsctl.yaml"):  # jsctl.yaml: the owner --prune needs
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def as_user(jsctl, server: NatsServer, seed: str, project: Path, *args: str):
    return jsctl(*args, env={"NATS_URL": server.url, "NATS_NKEY": seed}, cwd=project)


def live_streams(server: NatsServer) -> list[str]:
    from reconciler.jetstream.client import JetStreamApi

    async def names() -> list[str]:
        nc = await connect_nats(NatsSettings(url=server.url, nkey=APP_SEED))
        try:
            return await JetStreamApi(nc).paged("STREAM.NAMES", "streams")
        finally:
            await nc.close()

    return sorted(asyncio.run(names()))


def assert_refused_in_one_line(done, subject: str) -> None:
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (f"jsctl: error: permission denied: this NATS user may not publish to {subject} "
                           "(the permissions each command needs: docs/gitops.md)\n")


def test_plan_user_plans_and_is_refused_apply_the_apply_user_applies(jsctl, server, project, nats_server_version):
    def plan(*args: str):
        done = as_user(jsctl, server, PLAN_SEED, project, "plan", *args)
        assert done.returncode in (0, 2), done.stderr
        return done

    assert "Plan: 3 to create." in plan().stdout
    assert [c["action"] for c in json.loads(plan("-o", "json").stdout)["changes"]] == ["create"] * 3

    # Apply as the read-only user: refused at the first write (creating the lock bucket), nothing created.
    assert_refused_in_one_line(as_user(jsctl, server, PLAN_SEED, project, "apply", "--yes"),
                               "$JS.API.STREAM.CREATE.KV_jsctl_locks")
    assert live_streams(server) == []

    applied = as_user(jsctl, server, APPLY_SEED, project, "apply", "--yes")
    assert applied.returncode == 0 and "Apply complete" in applied.stdout, applied.stderr
    assert plan("--detailed-exitcode").returncode == 0
    assert json.loads(plan("-o", "json").stdout)["changes"] == []

    # The lock bucket exists now: refused at reading the lock (the refusal takes the request timeout, 5 s:
    # it runs beside the next steps, which it cannot disturb as it writes nothing).
    refused = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "--yes"], cwd=project, text=True,
                               env={**os.environ, "NATS_URL": server.url, "NATS_NKEY": PLAN_SEED},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # Every kind of change as the apply user: update, replace (storage), pause where the server has it,
    # then a saved plan of the read-only user applied, then prune.
    streams = (project / "streams.yaml").read_text()
    (project / "streams.yaml").write_text(streams.replace("max_bytes: -1", "max_bytes: 100000000"))
    consumers = (project / "consumers.yaml").read_text().replace("max_ack_pending: 100", "max_ack_pending: 50")
    if version_line(nats_server_version) >= (2, 11):
        consumers = consumers.replace("max_ack_pending: 50",
                                      "max_ack_pending: 50\n    pause_until: '2099-01-01T00:00:00Z'")
    (project / "consumers.yaml").write_text(consumers)
    applied = as_user(jsctl, server, APPLY_SEED, project, "apply", "--yes")
    assert applied.returncode == 0, applied.stderr

    (project / "streams.yaml").write_text(streams.replace("storage: file", "storage: memory"))
    saved = plan("--out", "plan.json")
    assert "replace" in saved.stdout
    applied = as_user(jsctl, server, APPLY_SEED, project, "apply", "--allow-destructive", "plan.json")
    assert applied.returncode == 0, applied.stderr

    (project / "consumers.yaml").write_text("consumers: []\n")
    without_consumers = json.loads(plan("-o", "json").stdout)["changes"]
    assert {c["action"] for c in without_consumers} == {"unmanaged"}
    applied = as_user(jsctl, server, APPLY_SEED, project, "apply", "--yes", "--prune", "--allow-destructive")
    assert applied.returncode == 0, applied.stderr
    assert plan("--detailed-exitcode", "--prune").returncode == 0
    assert live_streams(server) == ["KV_jsctl_locks", "USER_TXN"]
    stdout, stderr = refused.communicate(timeout=120)
    assert_refused_in_one_line(subprocess.CompletedProcess(refused.args, refused.returncode, stdout, stderr),
                               "$JS.API.STREAM.MSG.GET.KV_jsctl_locks")


def test_apply_user_may_not_touch_the_applications_messages(server):
    async def refused(subject: str) -> bool:
        """Whether the server answers a publish to ``subject`` with a permissions violation (within 5 s)."""
        violation = f'permissions violation for publish to "{subject}"'.lower()  # as nats-py keeps it
        nc = await connect_nats(NatsSettings(url=server.url, nkey=APPLY_SEED))
        try:
            await nc.publish(subject, b"{}")
            deadline = asyncio.get_running_loop().time() + 5
            while violation not in str(nc.last_error) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            return violation in str(nc.last_error)
        finally:
            await nc.close()

    for subject in ("USER_TXN.maker", "$JS.API.STREAM.PURGE.USER_TXN", "$JS.API.CONSUMER.MSG.NEXT.USER_TXN.GRP_MAKER"):
        assert asyncio.run(refused(subject)), subject
