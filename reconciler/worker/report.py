"""What the worker tells its operator: log lines (text or JSON), the progress line, and the counts
behind them and its metrics (served by monitor.py)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import scrub

COUNTERS = ("processed", "approved", "rejected", "duplicates", "dead_lettered", "retried")
HELP = {
    "processed": "Events recorded with a verdict (new ones).",
    "approved": "Events approved.",
    "rejected": "Events rejected by the threshold rule.",
    "duplicates": "Redelivered or re-published events already recorded (nothing added).",
    "dead_lettered": "Bad events and conflicting duplicates stored in rejected_messages and terminated.",
    "retried": "Events handed back for redelivery after a transient fault.",
}
# Transient faults, counted by kind (jsctl_worker_errors_total{kind=...}); each is also a warning line.
ERROR_KINDS = {
    "fetch": "a pull request failed (NATS reconnecting or restarting)",
    "database": "a batch's database call failed; the batch was handed back",
    "publish": "a batch's verdicts were not all confirmed; the batch was handed back",
    "reply": "acks, naks or terms could not be sent; JetStream redelivers",
    "connection": "the NATS connection was lost",
}
_TEXT_UNITS = {"rate": "/s"}  # the text form only: JSON logs give the bare number


@dataclass
class Stats:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
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
            extra = " ".join(f"{k}={v}{_TEXT_UNITS.get(k, '')}" for k, v in fields.items())
            line = f"worker: {level}: {message}" + (f" ({extra})" if extra else "")
        print(scrub(line), file=self.stream, flush=True)  # library errors in fields may quote a secret

    def progress(self) -> None:
        now = time.monotonic()
        processed = self.stats.counts["processed"] + self.stats.counts["duplicates"]
        rate = (processed - self._last_processed) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_processed = now, processed
        self.log("info", "progress", **self.stats.counts, rate=round(rate), lag=self.stats.lag)

    def summary(self, message: str) -> None:
        """The last line: the whole run's totals and its average rate."""
        elapsed = time.monotonic() - self.stats.started
        processed = self.stats.counts["processed"] + self.stats.counts["duplicates"]
        self.log("info", message, **self.stats.counts, seconds=round(elapsed, 1),
                 rate=round(processed / max(elapsed, 1e-9)), lag=self.stats.lag)


def describe(exc: BaseException | None) -> str:
    """An exception in one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
