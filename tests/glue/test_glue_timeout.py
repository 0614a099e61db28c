"""`--timeout` where the database is involved: a revision blocked at the deadline is rolled back and the
apply lock released; a Postgres that stops answering ends each database command at the deadline; the
scratch Postgres a run abandons does not outlive it."""

from __future__ import annotations

import os
import signal
import tempfile
import uuid
from pathlib import Path

import psycopg
from glue_helpers import ADD_NOTE, HEAD, NEXT, add_revision, revision, sql
from support import leftover_servers, lock_holder

from reconciler.dev.servers import PostgresServer, wait_for


def test_a_revision_blocked_at_the_deadline_is_rolled_back_and_the_apply_lock_released(run, project, database_url,
                                                                                         js_account):
    assert run("apply", "--yes").returncode == 0
    add_revision(project, *ADD_NOTE)
    with psycopg.connect(database_url) as blocker:  # holds the table the new revision alters
        blocker.execute("LOCK TABLE user_thresholds IN ACCESS EXCLUSIVE MODE")
        late = run("apply", "--yes", "--timeout", "8s", "--ddl-lock-timeout", "600")
        blocker.rollback()
    assert late.returncode == 1, late.stdout + late.stderr
    assert "jsctl: error: gave up after 8s (--timeout)" in late.stderr and "Traceback" not in late.stderr
    # jsctl's session, once the lock is free, finds its client gone and rolls back.
    wait_for(lambda: not sql(database_url, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND application_name LIKE 'jsctl%'"),
             timeout=60, what="jsctl's database session to end")
    assert revision(database_url) == HEAD
    assert not sql(database_url, "SELECT 1 FROM information_schema.columns WHERE column_name = 'note'")
    assert lock_holder(js_account) is None  # released while the database half was still blocked

    done = run("apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert revision(database_url) == NEXT


def test_each_database_command_gives_up_at_the_deadline_when_postgres_stops_answering(jsctl, project, server_tmp,
                                                                                      nats_server):
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="pg-", dir=server_tmp)) / "data",
                            password=uuid.uuid4().hex).start()
    try:
        url = server.create_database("stopped")
        postmaster = server.pid()
        assert postmaster is not None
        os.kill(postmaster, signal.SIGSTOP)  # connections are accepted by the kernel, never answered
        try:
            env = {"DATABASE_URL": url, "JSCTL_DEV_DATABASE_URL": url, "NATS_URL": nats_server.url}
            for args in (["db", "plan"], ["db", "upgrade"], ["db", "revision", "-m", "x"], ["ping"]):
                late = jsctl(*args, "--timeout", "1s", env=env, cwd=project)
                assert late.returncode == 1, (args, late.stdout + late.stderr)
                assert "jsctl: error: gave up after 1s (--timeout)" in late.stderr, (args, late.stderr)
                assert server.password not in late.stdout + late.stderr
        finally:
            os.kill(postmaster, signal.SIGCONT)
    finally:
        server.stop("immediate")


def test_the_scratch_postgres_of_an_abandoned_run_does_not_outlive_it(jsctl, project, database_url, server_tmp):
    """A revision that never ends on the scratch database: at the deadline the run reports, its thread
    cannot be cancelled, so the watchdog ends the process, stopping the embedded Postgres it started."""
    env = {"DATABASE_URL": database_url}
    assert jsctl("db", "upgrade", env=env, cwd=project).returncode == 0  # also makes the scratch template once
    reached = server_tmp / f"sleeping-{uuid.uuid4().hex}"  # written by the revision just before it sleeps
    add_revision(project, f'open({str(reached)!r}, "w").close()\nop.execute("SELECT pg_sleep(600)")\n', "sleep",
                 ("", ""))
    # The watchdog is what this tests, so the run must be in the sleep at the deadline: about 3 s in when
    # the machine is quiet. A run that gave up before it (a loaded machine) proves nothing: it is run
    # again with twice the time, a bounded number of times.
    for seconds in (30, 60, 120):
        scratch_tmp = Path(tempfile.mkdtemp(prefix="scratch-", dir=server_tmp))
        scratch_tmp.chmod(0o755)  # the Postgres user (tests running as root) must traverse it
        late = jsctl("db", "plan", "--timeout", f"{seconds}s", env={**env, "TMPDIR": str(scratch_tmp)}, cwd=project)
        assert late.returncode == 1, late.stdout + late.stderr
        assert f"jsctl: error: gave up after {seconds}s (--timeout)" in late.stderr
        assert leftover_servers([scratch_tmp], grace=0) == {}
        assert not list(scratch_tmp.iterdir())
        if reached.exists():
            break
    assert reached.exists(), "the run never reached the revision's sleep"
    assert "did not stop within" in late.stderr  # the watchdog ended it
