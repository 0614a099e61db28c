"""`jsctl publish` and the worker's operational surface: signals, JSON logs, metrics, batch clamping."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import pytest

from reconciler.dev.servers import free_port, wait_for
from tests.worker.harness import REPO, consumer_state, event, publish, recorded, run_worker, worker_command


def stream_messages(url: str) -> int:
    return consumer_state(url)["num_pending"]


def test_publish_random_events(user_txn, jsctl):
    done = jsctl("publish", "--server", user_txn, "--count", "25")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "published 25, duplicates 0, failed 0"
    assert stream_messages(user_txn) == 25


def test_publish_file_lines_as_is_with_ids_from_content(user_txn, jsctl, tmp_path):
    lines = [b'{"userTransaction":{"userId":"1","transactionMode":"buy","amount":1.5,"transactionId":"t1"}}',
             b'{"userId":"2","transactionMode":"sell","amount":2}', b"",
             b'{"userId":"2","transactionMode":"sell","amount":2}', b"not json at all"]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    done = jsctl("publish", "--server", user_txn, "--file", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "published 3, duplicates 1, failed 0"
    again = jsctl("publish", "--server", user_txn, "--file", str(path))
    assert again.stdout.strip() == "published 0, duplicates 4, failed 0"


def test_publish_failures_exit_non_zero(user_txn, jsctl, tmp_path):
    done = jsctl("publish", "--server", user_txn, "--count", "3", "--subject", "NOWHERE.maker")
    assert done.returncode == 1
    assert done.stdout.strip() == "published 0, duplicates 0, failed 3"
    assert done.stderr.count("\n") == 1 and "no stream captures the subject" in done.stderr
    missing = jsctl("publish", "--server", user_txn, "--file", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 1 and "No such file" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize(("command", "flag", "subject", "why"), [
    ("publish", "--subject", "USER_TXN maker", "whitespace"),
    ("publish", "--subject", "USER_TXN.>", "wildcard"),
    ("worker", "--verdict-subject", "USER_TXN..validator", "empty token"),
    ("up", "--verdict-subject", "USER_TXN.*", "wildcard"),
])
def test_publish_subjects_must_be_literal_and_valid(jsctl, command, flag, subject, why):
    """Refused before connecting: no server is needed to say what is wrong."""
    done = jsctl(command, flag, subject)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"Invalid value for '{flag}'" in done.stderr and why in done.stderr


def test_worker_json_logs_metrics_and_graceful_sigterm(user_txn, worker_db):
    port = free_port()
    proc = subprocess.Popen(worker_command(user_txn, worker_db, "--log-format", "json", "--metrics-port", str(port)),
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        publish(user_txn, [event(f"m{i}", "u1", "1") for i in range(10)])
        wait_for(lambda: recorded(worker_db) == 10, timeout=30,
                 what="the worker to record 10 events")

        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                return resp.read().decode()

        wait_for(lambda: "jsctl_worker_processed_total 10.0" in scrape(), timeout=10, what="metrics")
        assert "jsctl_worker_approved_total 10.0" in scrape() and "jsctl_worker_consumer_lag" in scrape()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines()]
    assert records[0]["msg"] == "started" and records[-1]["msg"] == "stopped"
    assert records[-1]["processed"] == 10 and records[-1]["approved"] == 10  # the run's totals


def test_batch_larger_than_max_ack_pending_is_clamped_with_a_warning(user_txn, worker_db):
    done = run_worker(user_txn, worker_db, "--batch", "500", "--pipeline", "2")
    assert done.returncode == 0, done.stderr
    assert "--batch 500 x --pipeline 2 exceeds the consumer's max_ack_pending 100" in done.stderr
    assert "using --batch 50" in done.stderr


@pytest.fixture
def silent_server():
    """A loopback port that accepts connections (the kernel completes them) and never says a word."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("command", [
    ["thresholds", "list"], ["thresholds", "set", "u1", "--max-amount", "1", "--daily-limit", "2"],
    ["thresholds", "import", "limits.csv"], ["rejected", "list"], ["rejected", "replay", "--all", "--dry-run"],
    ["rejected", "replay", "--all"],
])
def test_timeout_ends_the_whole_run_of_a_command_that_connects(jsctl, silent_server, tmp_path, command):
    (tmp_path / "limits.csv").write_text("user_id,max_amount,daily_limit\nu1,1,2\n")
    done = jsctl(*command, "--timeout", "1s", cwd=tmp_path, timeout=30,
                 env={"NATS_URL": f"nats://127.0.0.1:{silent_server}",
                      "DATABASE_URL": f"postgresql://u:secret-pw@127.0.0.1:{silent_server}/db"})
    assert done.returncode == 1 and done.stderr == "jsctl: error: gave up after 1s (--timeout)\n"
    bad = jsctl(*command, "--timeout", "soon", cwd=tmp_path)
    assert bad.returncode == 1 and "'soon' is not a duration" in bad.stderr
