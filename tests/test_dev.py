"""`jsctl dev up | down | status | env` end to end: real servers, in a temp dir, on free ports."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from expect import one_line_error
from support import REPO, run_jsctl

from reconciler.dev.servers import NatsServer, free_ports, pid_alive, wait_for
from reconciler.errors import UserError


@pytest.fixture
def dev_dir(server_tmp) -> Iterator[Path]:
    """A --dir for `jsctl dev`; whatever the test leaves running is stopped afterwards."""
    path = Path(tempfile.mkdtemp(prefix="dev-", dir=server_tmp)) / "dev"
    yield path
    if (path / "state.json").exists():
        run_jsctl("dev", "down", "--dir", str(path))


def dev(*args: str, directory: Path, **kwargs) -> subprocess.CompletedProcess:
    return run_jsctl("dev", *args, "--dir", str(directory), **kwargs)


def up(directory: Path) -> subprocess.CompletedProcess:
    done = dev("up", "--nats-port", "0", "--pg-port", "0", directory=directory)
    assert done.returncode == 0, done.stderr
    return done


def pids(directory: Path) -> tuple[int, int]:
    """(nats-server pid, postmaster pid) of a running dev environment."""
    state = json.loads((directory / "state.json").read_text())
    postmaster = int((directory / "postgres" / "data" / "postmaster.pid").read_text().splitlines()[0])
    return state["nats_pid"], postmaster


def test_dev_lifecycle(dev_dir):
    assert "not running" in dev("status", directory=dev_dir).stdout
    one_line_error(dev("env", directory=dev_dir), "jsctl dev up")

    assert "dev servers started" in up(dev_dir).stderr
    first = json.loads((dev_dir / "state.json").read_text())
    nats_pid, pg_pid = pids(dev_dir)

    # idempotent: nothing restarted, same ports
    assert "already running" in up(dev_dir).stderr
    assert pids(dev_dir) == (nats_pid, pg_pid)

    status = dev("status", directory=dev_dir).stdout
    assert f"nats      running  nats://127.0.0.1:{first['nats_port']}" in status
    assert f"postgres  running  127.0.0.1:{first['pg_port']}" in status

    # the printed exports are what `jsctl ping` needs, through a real shell
    assert set(exported(dev_dir)) == {"NATS_URL", "NATS_NKEY", "DATABASE_URL", "JSCTL_DEV_DATABASE_URL"}
    done = in_dev_shell(dev_dir, "ping")
    assert done.returncode == 0, done.stderr
    assert "JetStream enabled" in done.stdout and "PostgreSQL" in done.stdout

    # a crashed NATS is restarted on the same port; Postgres is left alone
    os.kill(nats_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(nats_pid), timeout=10, what="nats-server to die")
    assert "running" not in dev("status", directory=dev_dir).stdout.splitlines()[0]
    assert "dev servers started" in up(dev_dir).stderr
    restarted = json.loads((dev_dir / "state.json").read_text())
    assert (restarted["nats_port"], restarted["pg_port"]) == (first["nats_port"], first["pg_port"])
    nats_pid, _ = pids(dev_dir)
    assert pids(dev_dir)[1] == pg_pid

    # down stops both; the data stays for the next `up`
    done = dev("down", directory=dev_dir)
    assert done.returncode == 0, done.stderr
    assert not pid_alive(nats_pid) and not pid_alive(pg_pid)
    assert (dev_dir / "postgres" / "data" / "PG_VERSION").is_file()
    assert "not running" in dev("status", directory=dev_dir).stdout

    up(dev_dir)
    nats_pid, pg_pid = pids(dev_dir)
    done = dev("down", "--purge", directory=dev_dir)
    assert done.returncode == 0 and "data deleted" in done.stderr
    assert not pid_alive(nats_pid) and not pid_alive(pg_pid)
    assert not dev_dir.exists()


def exported(directory: Path) -> dict[str, str]:
    """The variables `jsctl dev env` exports, as a shell reads them."""
    lines = dev("env", directory=directory).stdout.splitlines()
    return dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)


def in_dev_shell(directory: Path, command: str) -> subprocess.CompletedProcess:
    """``command`` in a shell that ran `eval "$(jsctl dev env)"`, in the project directory."""
    jsctl = f"{shlex.quote(sys.executable)} -m reconciler"
    return subprocess.run(["bash", "-c", f'eval "$({jsctl} dev env --dir {shlex.quote(str(directory))})" && '
                                         f"{jsctl} {command}"],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={k: v for k, v in os.environ.items() if k not in exported(directory)})


def test_plan_out_in_the_documented_dev_setup(dev_dir, tmp_path):
    up(dev_dir)
    # the dev Postgres password used to equal the dev NATS server's name, which every plan names
    done = in_dev_shell(dev_dir, f"plan --out {shlex.quote(str(tmp_path / 'plan.json'))}")
    assert done.returncode == 0, done.stderr
    password = (dev_dir / "postgres-password").read_text()
    assert len(password) >= 24 and f":{password}@" in exported(dev_dir)["DATABASE_URL"]
    assert password not in done.stdout + done.stderr + (tmp_path / "plan.json").read_text()
    for private in ("postgres-password", "state.json"):
        assert (dev_dir / private).stat().st_mode & 0o077 == 0, private
    # a new environment, a new password
    dev("down", "--purge", directory=dev_dir)
    up(dev_dir)
    assert (dev_dir / "postgres-password").read_text() != password
    assert in_dev_shell(dev_dir, "ping").returncode == 0


def test_a_dev_postgres_with_the_old_fixed_password_says_what_to_do(dev_dir):
    up(dev_dir)
    (dev_dir / "postgres-password").unlink()  # as an older jsctl left it
    dev("down", directory=dev_dir)
    done = dev("up", "--nats-port", "0", "--pg-port", "0", directory=dev_dir)
    one_line_error(done, "made by an older jsctl", "jsctl dev down --purge")
    assert not (dev_dir / "state.json").exists()  # nothing started


@pytest.mark.parametrize("flag", ["--nats-port", "--pg-port"])
def test_busy_port_is_a_clear_error_and_starts_nothing(dev_dir, flag):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {"--nats-port": "0", "--pg-port": "0", flag: str(port)}
        done = dev("up", *[part for item in ports.items() for part in item], directory=dev_dir)
    one_line_error(done, f"port {port}", "already in use", flag)
    # refused before anything started: not even a directory (the servers' own port checks, which say
    # the same, come only after `up` has made the directory and, for --pg-port, started NATS)
    assert not dev_dir.exists()


def test_up_outside_the_project_names_the_missing_file(dev_dir, tmp_path):
    done = dev("up", "--nats-port", "0", "--pg-port", "0", directory=dev_dir, cwd=tmp_path)
    one_line_error(done, "nats-server.conf not found", "--hack-dir")


def test_same_port_for_both_servers_is_refused(dev_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    one_line_error(dev("up", "--nats-port", port, "--pg-port", port, directory=dev_dir), "choose two ports")


def test_a_server_that_cannot_start_says_why_in_one_line(tmp_path):
    with pytest.raises(UserError) as failed:
        NatsServer(tmp_path, config="jetstream { max_file_store: not-a-size }").start()
    message = str(failed.value)
    assert "\n" not in message and "nats-server exited" in message and "log:" in message


def test_free_ports_asked_together_are_distinct():
    assert len(set(free_ports(64))) == 64


@pytest.mark.parametrize("kind", ["nats", "postgres"])
def test_ports_taken_between_choosing_and_binding_are_chosen_again(kind, tmp_path, server_tmp, monkeypatch):
    from reconciler.dev import servers as localservers

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        real = localservers.free_ports
        answers = iter([[taken, *real(3)]])  # the first choice is already bound by "another process"
        monkeypatch.setattr(localservers, "free_ports", lambda count: next(answers, None) or real(count))
        server = NatsServer(tmp_path).start() if kind == "nats" else \
            localservers.PostgresServer(Path(tempfile.mkdtemp(dir=server_tmp)) / "data").start()
        try:
            assert taken not in (server.port, getattr(server, "monitor_port", None))
            assert "address already in use" in server.log_file.read_text().lower()
        finally:
            server.stop()
