"""The worker's health report and log lines (pure: no servers)."""

from __future__ import annotations

import io
import json

from reconciler.errors import keep_secret
from reconciler.worker.monitor import APPLYING, RUNNING, STALE_AFTER, Health
from reconciler.worker.report import Reporter, Stats

ALL_UP = {"nats": None, "postgres": None, "consumer": None}


def test_healthy_only_when_running_with_everything_up_and_checked_lately():
    health = Health(APPLYING)
    status, body = health.report()
    assert status == 503 and body["phase"] == "applying" and body["down"] == ["worker", "nats", "postgres", "consumer"]
    assert body["checks"]["nats"] == {"ok": False, "error": "not checked yet"}
    health.checked(ALL_UP)
    assert health.report()[0] == 503  # still applying
    health.phase = RUNNING
    assert health.report() == (200, {"status": "ok", "phase": "running", "down": [], "checks": {
        name: {"ok": True} for name in ("worker", "nats", "postgres", "consumer")}})
    health.checked({**ALL_UP, "postgres": "ConnectionFailed: connection refused"})
    status, body = health.report()
    assert status == 503 and body["down"] == ["postgres"]
    assert body["checks"]["postgres"] == {"ok": False, "error": "ConnectionFailed: connection refused"}


def test_a_worker_whose_checks_stopped_coming_is_reported_stuck():
    health = Health(RUNNING)
    health.checked(ALL_UP)
    health.checked_at -= STALE_AFTER + 1
    status, body = health.report()
    assert status == 503 and body["down"] == ["worker"]
    assert "the worker's event loop is stuck" in body["checks"]["worker"]["error"]


def test_no_secret_in_the_health_report():
    keep_secret("pw-only-the-server-knows")
    health = Health(RUNNING)
    health.checked({**ALL_UP, "postgres": "cannot connect to postgresql://u:pw-only-the-server-knows@h/db"})
    assert "pw-only-the-server-knows" not in json.dumps(health.report()[1])


def test_json_log_lines_carry_numbers_as_numbers():
    stats, out = Stats(), io.StringIO()
    stats.add(processed=7, approved=5, rejected=2)
    reporter = Reporter(stats, log_format="json", stream=out)
    reporter.progress()
    reporter.summary("stopped")
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        numbers = {k: v for k, v in record.items() if k not in ("time", "level", "msg")}
        assert numbers and all(type(v) in (int, float) for v in numbers.values()), record
    text = io.StringIO()
    Reporter(stats, stream=text).summary("stopped")
    assert "processed=7" in text.getvalue() and "/s lag=0)" in text.getvalue()
