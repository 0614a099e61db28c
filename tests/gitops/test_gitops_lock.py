"""The apply lock: real processes contend for it on a real nats-server."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time

import pytest
from gitops_helpers import events, js_request, start_cluster, start_holder
from support import lock_holder

from reconciler.dev.servers import wait_for
from reconciler.errors import EXIT_REFUSED, JsctlError
from reconciler.jetstream import lock as lock_module
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.lock import (
    LOCK_BUCKET,
    LOCK_STREAM,
    ApplyLock,
    LockRecord,
    LockStore,
    current_lock,
    is_jsctl_internal,
)
from reconciler.jetstream.settings import NatsSettings


@pytest.fixture
def lock_server(nats_server_factory):
    """A server of its own: the lock is per account, and other tests must not see it held."""
    return nats_server_factory()


def test_lock_stream_is_internal():
    assert is_jsctl_internal(LOCK_STREAM)
    assert not is_jsctl_internal("USER_TXN")


def test_two_concurrent_holders_serialize(lock_server, tmp_path):
    log = tmp_path / "log"
    procs = [start_holder(lock_server.url, log, hold=0.8) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    acquired = sorted((e for e in events(log) if e["event"] == "acquired"), key=lambda e: e["t"])
    released = {e["id"]: e["t"] for e in events(log) if e["event"] == "released"}
    assert len(acquired) == 2 and acquired[0]["id"] != acquired[1]["id"]
    # The second holder got the lock only after the first let it go.
    assert acquired[1]["t"] >= released[acquired[0]["id"]]
    assert lock_holder(lock_server.url) is None


def test_held_lock_refuses_after_timeout_then_force_unlock(lock_server, tmp_path, jsctl):
    never = jsctl("force-unlock", "nope", "--server", lock_server.url)  # no apply yet: no bucket either
    assert never.returncode == 1 and "no apply lock is held (lock id nope not found)" in never.stderr
    log = tmp_path / "log"
    first = start_holder(lock_server.url, log, hold=60)
    try:
        wait_for(lambda: events(log), timeout=20, what="the first holder to take the lock")
        lock_id = events(log)[0]["id"]
        second = start_holder(lock_server.url, tmp_path / "log2", hold=0, timeout=0.5)
        _, err = second.communicate(timeout=60)
        assert second.returncode == EXIT_REFUSED
        assert "holds the apply lock after waiting 0.5s" in err and lock_id in err and "since" in err
        assert len(err.strip().splitlines()) == 1

        wrong = jsctl("force-unlock", "nope", "--server", lock_server.url)
        assert wrong.returncode == 1 and lock_id in wrong.stderr
        done = jsctl("force-unlock", lock_id, "--server", lock_server.url)
        assert done.returncode == 0, done.stderr
        assert lock_id in done.stdout
        assert lock_holder(lock_server.url) is None
        # The first holder notices at its next refresh that it lost the lock... (ttl 30 s: not
        # waited for here); a new apply can take the lock at once.
        third = start_holder(lock_server.url, tmp_path / "log3", hold=0, timeout=5)
        assert third.wait(60) == 0, third.stderr.read()
    finally:
        first.kill()
        first.wait(10)


def test_killed_holder_lock_expires(lock_server, tmp_path):
    log = tmp_path / "log"
    crashed = start_holder(lock_server.url, log, hold=60, ttl=1.5)
    wait_for(lambda: events(log), timeout=20, what="the holder to take the lock")
    crashed.kill()  # SIGKILL: no release
    crashed.wait(10)
    assert lock_holder(lock_server.url) is not None
    started = time.monotonic()
    nxt = start_holder(lock_server.url, tmp_path / "log2", hold=0, timeout=20)
    assert nxt.wait(60) == 0, nxt.stderr.read()
    assert time.monotonic() - started < 15


def test_holder_refreshes_beyond_ttl_and_detects_force_unlock(lock_server, tmp_path, jsctl):
    log = tmp_path / "log"
    # Held until force-unlocked (the holder stops as soon as its refresher sees that): a loaded
    # machine may take seconds to start `jsctl force-unlock`, the lock must still be there then.
    holder = start_holder(lock_server.url, log, hold=120, ttl=2.0)
    wait_for(lambda: events(log), timeout=20, what="the holder to take the lock")
    lock_id = events(log)[0]["id"]
    first_seq = lock_holder(lock_server.url).seq
    # Refreshed every ttl/3: after four refreshes more than one TTL has passed and it is still held.
    wait_for(lambda: (lock_holder(lock_server.url).seq or 0) >= first_seq + 4, timeout=30,
             what="the holder to refresh its lock")
    assert lock_holder(lock_server.url).id == lock_id
    assert jsctl("force-unlock", lock_id, "--server", lock_server.url).returncode == 0
    _, err = holder.communicate(timeout=60)
    assert holder.returncode == 1 and "force-unlocked" in err


def test_holders_on_different_cluster_nodes_serialize_on_a_replicated_lock(nats_server_factory, tmp_path):
    servers = start_cluster(nats_server_factory, 3)
    log = tmp_path / "log"
    procs = [start_holder(server.url, log, hold=0.5) for server in servers[:2]]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    acquired = sorted((e for e in events(log) if e["event"] == "acquired"), key=lambda e: e["t"])
    released = {e["id"]: e["t"] for e in events(log) if e["event"] == "released"}
    assert len(acquired) == 2 and acquired[1]["t"] >= released[acquired[0]["id"]]
    assert js_request(servers[2].url, f"STREAM.INFO.{LOCK_STREAM}")["config"]["num_replicas"] == 3


def test_lock_falls_back_to_one_replica_in_a_two_node_cluster(nats_server_factory, tmp_path):
    servers = start_cluster(nats_server_factory, 2)
    holder = start_holder(servers[0].url, tmp_path / "log", hold=0)
    _, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err
    assert js_request(servers[1].url, f"STREAM.INFO.{LOCK_STREAM}")["config"]["num_replicas"] == 1


def test_a_bucket_without_responder_is_waited_for_then_a_clear_error(lock_server, monkeypatch):
    # As a just-created R3 bucket in a cluster may be for a moment: its subject has no responder yet.
    monkeypatch.setattr(lock_module, "LEADER_WAIT_S", 5.0)
    deaf = {"name": LOCK_STREAM, "subjects": ["$KV.elsewhere.>"], "max_msgs_per_subject": 1}
    js_request(lock_server.url, f"STREAM.CREATE.{LOCK_STREAM}", deaf)

    async def scenario():
        nc = await connect_nats(NatsSettings(url=lock_server.url))
        api = JetStreamApi(nc)
        try:
            async def answer_soon():  # the bucket starts answering while the writer waits
                await asyncio.sleep(0.5)
                await api.request(f"STREAM.UPDATE.{LOCK_STREAM}", {**deaf, "subjects": [f"$KV.{LOCK_BUCKET}.>"]})

            late = asyncio.create_task(answer_soon())
            async with ApplyLock(nc, timeout_s=10) as held:
                assert (await current_lock(nc)).id == held.id
            await late
            await api.request(f"STREAM.UPDATE.{LOCK_STREAM}", deaf)
            monkeypatch.setattr(lock_module, "LEADER_WAIT_S", 0.3)
            with pytest.raises(JsctlError, match=f"stream {LOCK_STREAM} did not answer within 0.3s"):
                await ApplyLock(nc, timeout_s=1).acquire()
        finally:
            await nc.close()

    asyncio.run(scenario())


def exited_pid() -> int:
    """The pid of a process that has exited and been reaped: no process has it (until reused)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def test_a_holder_is_judged_gone_only_on_this_machine_with_its_process_gone():
    here = LockRecord.new("apply", 30)
    assert here.pid_scope  # Linux: the kernel's boot id and this pid namespace
    dead = dataclasses.replace(here, pid=exited_pid())
    assert dead.gone_from(here)
    assert not dataclasses.replace(here, pid=os.getpid()).gone_from(here)  # running
    assert not dataclasses.replace(dead, host="elsewhere").gone_from(here)
    assert not dataclasses.replace(dead, pid_scope="another-boot/pid:[1]").gone_from(here)  # a container, a reboot
    assert not dataclasses.replace(dead, pid_scope=None).gone_from(here)  # written by an older jsctl
    assert not dataclasses.replace(dead, pid="4242").gone_from(here)  # not a pid: never judged gone


def test_a_killed_holder_on_this_host_is_taken_over_at_once_and_apply_says_so(lock_server, project, jsctl,
                                                                                tmp_path):
    log = tmp_path / "log"
    crashed = start_holder(lock_server.url, log, hold=600, ttl=600)  # its lock would last 10 minutes
    wait_for(lambda: events(log), timeout=20, what="the holder to take the lock")
    crashed.kill()  # SIGKILL: no release
    crashed.wait(10)
    assert lock_holder(lock_server.url).pid == crashed.pid
    done = jsctl("apply", "--yes", "--lock-timeout", "0", "--server", lock_server.url, cwd=project)
    assert done.returncode == 0, done.stderr
    told = [line for line in done.stderr.splitlines() if "took over the apply lock" in line]
    assert len(told) == 1 and events(log)[0]["id"] in told[0]
    assert told[0].endswith(f"process {crashed.pid} is no longer running on this host")
    assert lock_holder(lock_server.url) is None  # released after the apply


def test_a_holder_elsewhere_is_never_taken_over_early(lock_server):
    async def scenario():
        nc = await connect_nats(NatsSettings(url=lock_server.url))
        try:
            store = LockStore(nc)
            await store.ensure_bucket()
            here = LockRecord.new("apply", 600)
            dead = exited_pid()
            seq = 0
            for holder in (dataclasses.replace(here, host="elsewhere", pid=dead),
                           dataclasses.replace(here, pid_scope="another-boot/pid:[1]", pid=dead),
                           dataclasses.replace(here, pid_scope=None, pid=dead)):
                seq = await store.write(holder.payload(), seq, ttl_s=600)
                told: list[str] = []
                with pytest.raises(JsctlError) as refused:
                    await ApplyLock(nc, timeout_s=0, tell=told.append).acquire()
                assert refused.value.exit_code == EXIT_REFUSED and f"pid {dead}" in str(refused.value)
                assert not any("took over" in line for line in told)
                assert (await current_lock(nc)).id == here.id
        finally:
            await nc.close()

    asyncio.run(scenario())


def test_a_bad_manifest_is_reported_at_once_while_another_apply_holds_the_lock(lock_server, tmp_path, jsctl):
    """The manifests are checked before the lock is asked for: their error, not a wait of --lock-timeout."""
    (tmp_path / "streams.yaml").write_text("streams:\n  - name: BAD\n    subjects: [bad.>]\n    max_age: soon\n")
    log = tmp_path / "log"
    holder = start_holder(lock_server.url, log, hold=60)
    try:
        wait_for(lambda: events(log), timeout=20, what="the holder to take the lock")
        done = jsctl("apply", "--yes", "-f", str(tmp_path / "streams.yaml"), "--lock-timeout", "50",
                     "--server", lock_server.url)
        assert done.returncode == 1
        assert "streams.yaml:4:" in done.stderr and "max_age" in done.stderr
        assert "waiting" not in done.stderr and "lock" not in done.stderr
    finally:
        holder.kill()
        holder.wait(10)


def test_a_bad_manifest_is_reported_before_an_unreachable_server(tmp_path, jsctl):
    from reconciler.dev.servers import free_port, loopback_nats_url

    (tmp_path / "streams.yaml").write_text("streams:\n  - name: BAD\n    subjects: [bad.>]\n    max_age: soon\n")
    for command in ("plan", "apply"):
        done = jsctl(command, "-f", str(tmp_path / "streams.yaml"), "--server", loopback_nats_url(free_port()))
        assert done.returncode == 1 and "invalid manifests" in done.stderr and "streams.yaml:4:" in done.stderr
        assert "127.0.0.1" not in done.stderr and "Traceback" not in done.stderr
