"""`--timeout DURATION` on every command that connects: a server that stops answering (SIGSTOP, so
its socket stays open and nothing fails by itself) ends the run at the deadline with one clear error."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import nats
import pytest
import yaml
from gitops_helpers import REPO
from support import processed, stream_names

from reconciler.dev.servers import NatsServer

CHECK_UNKNOWN = 3


@contextlib.contextmanager
def stopped(server: NatsServer) -> Iterator[None]:
    """The server frozen (it accepts connections and reads nothing), then running again."""
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


# (arguments, exit code, where the error line goes)
COMMANDS = {
    "plan": (["plan"], 1, "stderr"),
    "apply": (["apply", "--yes"], 1, "stderr"),
    "check": (["check", "-o", "nagios"], CHECK_UNKNOWN, "stdout"),
    "export": (["export", "--dir", "exported"], 1, "stderr"),
    "ping": (["ping"], 1, "stderr"),
    "force-unlock": (["force-unlock", "0123456789abcdef"], 1, "stderr"),
    "publish": (["publish", "--count", "1"], 1, "stderr"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_connecting_command_gives_up_at_the_deadline(command, nats_server_factory, jsctl, project):
    server = nats_server_factory()
    args, code, stream = COMMANDS[command]
    with stopped(server):
        run = jsctl(*args, "--timeout", "1s", "--server", server.url, cwd=project)
    assert run.returncode == code, run.stdout + run.stderr
    # Without --timeout, connecting would fail on its own, later and with another message.
    assert "gave up after 1s (--timeout)" in getattr(run, stream), run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr


def test_a_prometheus_report_says_the_check_failed(nats_server_factory, jsctl, project):
    server = nats_server_factory()
    with stopped(server):
        run = jsctl("plan", "-o", "prometheus", "--timeout", "1s", "--server", server.url, cwd=project)
    assert run.returncode == 1 and "gave up after 1s (--timeout)" in run.stderr
    assert re.search(r"^jsctl_plan_check_success(\{[^}]*\})? 0$", run.stdout, re.M), run.stdout


def test_check_usage_errors_are_unknown_for_nagios(jsctl, tmp_path):
    for args in (["--timeout", "soon"], ["--consumer", "no-slash"], ["--no-such-flag"], ["-o", "xml"]):
        run = jsctl("check", *args, cwd=tmp_path)
        assert run.returncode == CHECK_UNKNOWN, (args, run.stderr)
        assert "Usage: jsctl check" in run.stderr
    # The other commands keep exit 1 for usage errors (2 means "changes" for plan --detailed-exitcode).
    assert jsctl("plan", "--timeout", "soon", cwd=tmp_path).returncode == 1
    assert jsctl("plan", "--no-such-flag", cwd=tmp_path).returncode == 1


class Spy:
    """A subscriber on a thread of its own that calls ``on_first()`` as soon as the server routes a message
    on ``subject`` (in the same account a subscriber sees every request sent there)."""

    def __init__(self, url: str, subject: str, on_first: Callable[[], None]):
        self.seen, self._ready = threading.Event(), threading.Event()
        self._on_first = on_first
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(url, subject),))
        self._thread.start()
        assert self._ready.wait(30), "the spy did not subscribe"

    async def _run(self, url: str, subject: str) -> None:
        self._loop, self._done = asyncio.get_running_loop(), asyncio.Event()
        nc = await nats.connect(url)
        await nc.subscribe(subject, cb=self._on_message)
        await processed(nc)
        self._ready.set()
        await self._done.wait()
        await nc.close()

    async def _on_message(self, msg) -> None:
        if not self.seen.is_set():
            self._on_first()
            self.seen.set()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._done.set)
        self._thread.join(30)


STEP = re.compile(r"^\s*(done|no answer|not done|failed)  \w+ stream/(\w+)$")


def test_apply_interrupted_mid_way_says_what_was_done_and_the_next_apply_goes_on(nats_server_factory, jsctl,
                                                                                  tmp_path):
    """The server stops answering as the first create reaches it: at the deadline, apply reports each
    request (done, sent without an answer, not done), says the lock could not be released, exits 1; once
    the server runs again, what it reported as done exists, what it did not send does not, and the next
    apply takes the lock over and finishes."""
    server = nats_server_factory()
    assert server.proc is not None
    names = [f"S{i:03d}" for i in range(100)]
    # A chain: each stream sources the one before, so the creates are sent one after the other.
    streams = [{"name": name, "subjects": [f"{name.lower()}.>"],
                **({"sources": [{"name": names[i - 1]}]} if i else {})} for i, name in enumerate(names)]
    manifest = tmp_path / "streams.yaml"
    manifest.write_text(yaml.safe_dump({"streams": streams}))
    spy = Spy(server.url, "$JS.API.STREAM.CREATE.S000", lambda: os.kill(server.proc.pid, signal.SIGSTOP))
    try:
        apply = subprocess.run([sys.executable, "-m", "reconciler", "apply", "--yes", "--timeout", "8s",
                                "--server", server.url, "-f", str(manifest)],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
        spy.close()
    assert spy.seen.is_set(), apply.stdout + apply.stderr
    assert apply.returncode == 1, apply.stdout + apply.stderr
    assert re.search(r"jsctl: error: gave up after 8s \(--timeout\): apply interrupted \(\d+ of 100 steps done",
                     apply.stderr), apply.stderr
    assert "could not release the apply lock" in apply.stderr and "takes it over at once" in apply.stderr
    report = {m[2]: m[1] for m in map(STEP.match, apply.stderr.splitlines()) if m}
    assert sorted(report) == names and "failed" not in report.values(), apply.stderr
    assert "not done" in report.values(), "the server answered every create before it stopped"
    live = set(stream_names(server.url))
    assert {n for n, status in report.items() if status == "done"} <= live
    assert not {n for n, status in report.items() if status == "not done"} & live

    again = jsctl("apply", "--yes", "--server", server.url, "-f", str(manifest), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert set(stream_names(server.url)) == set(names)
    plan = jsctl("plan", "--detailed-exitcode", "--server", server.url, "-f", str(manifest), cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_up_bounds_only_its_apply(jsctl, tmp_path):
    help_text = jsctl("up", "--help", cwd=REPO).stdout
    assert "--timeout DURATION" in help_text and "the worker then runs without a limit" in " ".join(help_text.split())
    assert "--timeout" not in jsctl("worker", "--help", cwd=REPO).stdout
