"""What the worker tells its operator: log lines (text or JSON), the progress line, Prometheus metrics."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import scrub

COUNTERS = ("processed", "approved", "rejected", "duplicates", "dead_lettered", "retried")
_HELP = {
    "processed": "Events recorded with a verdict (new ones).",
    "approved": "Events approved.",
    "rejected": "Events rejected by the threshold rule.",
    "duplicates": "Redelivered or re-published events already recorded (nothing added).",
    "dead_lettered": "Bad events and conflicting duplicates stored in rejected_messages and terminated.",
    "retried": "Events handed back for redelivery after a transient fault.",
}


@dataclass
class Stats:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    lag: int = 0  # the consumer's pending count, from the last message's metadata
    started: float = field(default_factory=time.monotonic)

    def add(self, **deltas: int) -> None:
        for name, delta in deltas.items():
            self.counts[name] += delta


class Reporter:
    def __init__(self, stats: Stats, *, log_format: str = "text", stream=None):
        self.stats, self.log_format = stats, log_format
        self.stream = stream or sys.stderr
        self._last_time, self._last_processed = time.monotonic(), 0

    def log(self, level: str, message: str, **fields: Any) -> None:
        if self.log_format == "json":
            line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
                               "msg": message, **fields}, default=str)
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            line = f"worker: {level}: {message}" + (f" ({extra})" if extra else "")
        print(scrub(line), file=self.stream, flush=True)  # library errors in fields may quote a secret

    def progress(self) -> None:
        now = time.monotonic()
        processed = self.stats.counts["processed"] + self.stats.counts["duplicates"]
        rate = (processed - self._last_processed) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_processed = now, processed
        self.log("info", "progress", **self.stats.counts, rate=f"{rate:.0f}/s", lag=self.stats.lag)

    def summary(self, message: str) -> None:
        """The last line: the whole run's totals and its average rate."""
        elapsed = time.monotonic() - self.stats.started
        processed = self.stats.counts["processed"] + self.stats.counts["duplicates"]
        self.log("info", message, **self.stats.counts, seconds=f"{elapsed:.1f}",
                 rate=f"{processed / max(elapsed, 1e-9):.0f}/s", lag=self.stats.lag)


def serve_metrics(stats: Stats, port: int) -> None:
    """Expose the counters on http://0.0.0.0:port/metrics (prometheus-client's own HTTP server thread)."""
    from prometheus_client import start_http_server
    from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily

    class Collector:
        def collect(self):
            for name in COUNTERS:
                yield CounterMetricFamily(f"jsctl_worker_{name}", _HELP[name], value=stats.counts[name])
            yield GaugeMetricFamily("jsctl_worker_consumer_lag", "Messages pending on the consumer.", value=stats.lag)

    REGISTRY.register(Collector())
    start_http_server(port)
