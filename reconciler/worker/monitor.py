"""What the worker serves on ``--metrics-port``: ``/metrics`` (Prometheus) and ``/healthz``, a probe of
its live state (for a Kubernetes readiness or liveness probe, a load balancer, a person with curl).

``/healthz`` answers 200 only while the worker runs with NATS connected, Postgres answering and its
consumer present, and 503 with a JSON body naming what is down otherwise (also while `jsctl up` still
applies, while the worker starts, and when it stops). The worker's health watch re-checks every
``HEALTH_INTERVAL`` seconds; if the checks stop coming (the event loop is stuck), the probe says so.

The server is prometheus-client's threaded WSGI server in a thread of its own, so it answers whatever
the worker's event loop is doing, and from before `jsctl up` applies anything.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from ..errors import UserError, scrub
from .report import COUNTERS, ERROR_KINDS, HELP, Stats

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

HEALTH_INTERVAL = 2.0  # seconds between the worker's health checks
STALE_AFTER = 5 * HEALTH_INTERVAL  # no check for this long: the worker's event loop is not running its tasks
BATCH_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # seconds

APPLYING, STARTING, RUNNING, STOPPING = "applying", "starting", "running", "stopping"
CHECKS = ("nats", "postgres", "consumer")
NOT_CHECKED = "not checked yet"


class Health:
    """The worker's state as /healthz reports it: written by the worker's event loop, read by the
    server's threads (each field is replaced whole, never changed in place)."""

    def __init__(self, phase: str = STARTING):
        self.phase = phase
        self.problems: dict[str, str | None] = dict.fromkeys(CHECKS, NOT_CHECKED)  # None: up
        self.checked_at: float | None = None  # monotonic time of the last complete check

    def checked(self, problems: dict[str, str | None]) -> None:
        self.problems = {name: None if problem is None else scrub(problem) for name, problem in problems.items()}
        self.checked_at = time.monotonic()

    def report(self) -> tuple[int, dict]:
        """(HTTP status, JSON body)."""
        problems = dict(self.problems)
        worker = None if self.phase == RUNNING else self.phase
        age = None if self.checked_at is None else time.monotonic() - self.checked_at
        if worker is None and age is not None and age > STALE_AFTER:
            worker = f"no health check for {age:.0f}s: the worker's event loop is stuck"
        checks = {"worker": worker, **problems}
        down = [name for name, problem in checks.items() if problem is not None]
        body = {"status": "unavailable" if down else "ok", "phase": self.phase, "down": down,
                "checks": {name: {"ok": True} if problem is None else {"ok": False, "error": problem}
                           for name, problem in checks.items()}}
        return (503 if down else 200), body


class Monitor:
    """The worker's counts, health and batch latencies, and the HTTP server that shows them."""

    def __init__(self, phase: str = STARTING):
        self.stats = Stats()
        self.health = Health(phase)
        self._batch_seconds = None  # a prometheus Histogram once serving (prometheus-client is imported then)
        self._server: WSGIServer | None = None

    def batch_done(self, seconds: float) -> None:
        if self._batch_seconds is not None:
            self._batch_seconds.observe(seconds)

    def serve(self, port: int) -> None:
        """Serve /metrics and /healthz on 0.0.0.0:``port`` from a daemon thread."""
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        from prometheus_client import CollectorRegistry, Histogram, make_wsgi_app
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
        from prometheus_client.exposition import ThreadingWSGIServer

        stats = self.stats

        class Collector:
            def collect(self):
                for name in COUNTERS:
                    yield CounterMetricFamily(f"jsctl_worker_{name}", HELP[name], value=stats.counts[name])
                errors = CounterMetricFamily("jsctl_worker_errors", "Transient faults, by kind: "
                                             + "; ".join(f"{k}: {v}" for k, v in ERROR_KINDS.items()) + ".",
                                             labels=["kind"])
                for kind in ERROR_KINDS:
                    errors.add_metric([kind], stats.errors[kind])
                yield errors
                yield GaugeMetricFamily("jsctl_worker_consumer_lag", "Messages pending on the consumer.",
                                        value=stats.lag)

        registry = CollectorRegistry()
        registry.register(Collector())
        self._batch_seconds = Histogram(
            "jsctl_worker_batch_duration_seconds", "Time from a batch's fetch to its acks (batches that completed).",
            buckets=BATCH_BUCKETS, registry=registry)
        metrics = make_wsgi_app(registry)

        def app(environ, start_response):
            if environ.get("PATH_INFO") != "/healthz":
                return metrics(environ, start_response)
            status, body = self.health.report()
            start_response("200 OK" if status == 200 else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
            return [json.dumps(body).encode()]

        class Quiet(WSGIRequestHandler):
            def log_message(self, format, *args):
                pass  # a probe every few seconds is not news

        try:
            self._server = make_server("0.0.0.0", port, app, ThreadingWSGIServer, handler_class=Quiet)
        except OSError as exc:
            raise UserError(f"cannot serve metrics on --metrics-port {port}: {exc.strerror or exc}") from None
        threading.Thread(target=self._server.serve_forever, name="jsctl-metrics", daemon=True).start()

    def close(self) -> None:
        """Stop serving, without waiting: the server notices within its 0.5 s poll interval, which every
        `jsctl worker --until-idle` run would otherwise add to its time."""
        if self._server is not None:
            server, self._server = self._server, None

            def stop() -> None:
                server.shutdown()
                server.server_close()

            threading.Thread(target=stop, name="jsctl-metrics-stop", daemon=True).start()
