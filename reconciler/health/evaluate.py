"""``jsctl check``: health of the declared streams and consumers, like ``nats server check``.

Pure: turns the stream and consumer infos read from the server into one result per resource
(check.py reads them, render.py prints the results). The states and their exit codes
are Nagios's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), on purpose unlike the other commands.

Every measure has a threshold key. ``--KEY-warn``/``--KEY-critical`` flags win over the resource's
``io.nats.monitor.KEY-warn``/``-critical`` metadata, which wins over the defaults below. The keys
are natscli's where natscli has one with the same meaning (``unprocessed``, ``outstanding-ack``,
``redelivery``); ``usage`` is jsctl's. A threshold is a count, or a percentage (``80%``) of the
resource's own limit (max_ack_pending, max_msgs, max_bytes); 0 turns it off, as in natscli.
A measure is in a state when its value is at or above the threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
METADATA_PREFIX = "io.nats.monitor."
LEVELS = ("warn", "critical")


@dataclass(frozen=True)
class Threshold:
    amount: float
    percent: bool = False

    @classmethod
    def parse(cls, text: str | int | float, where: str) -> Threshold | None:
        """``"100"`` -> 100 items; ``"80%"`` -> 80 % of the limit; ``"0"`` -> no threshold."""
        raw = str(text).strip()
        percent = raw.endswith("%")
        try:
            amount = float(raw.rstrip("%").strip())
        except ValueError:
            raise UserError(f"{where}: threshold {raw!r} is not a number or a percentage like 80%") from None
        return None if amount <= 0 else cls(amount, percent)

    def limit(self, maximum: float | None) -> float | None:
        """The absolute value this threshold stands for; None when a percentage has no limit to apply to."""
        if not self.percent:
            return self.amount
        return maximum * self.amount / 100 if maximum and maximum > 0 else None

    def __str__(self) -> str:
        return f"{self.amount:g}%" if self.percent else f"{self.amount:g}"


@dataclass(frozen=True)
class Measure:
    """One number checked on a stream or consumer info: its value, its limit, its threshold key."""

    key: str  # threshold key: flags --KEY-warn, metadata io.nats.monitor.KEY-warn
    name: str  # in messages and perfdata
    value: Callable[[Mapping[str, Any]], float]
    maximum: Callable[[Mapping[str, Any]], float | None] = lambda info: None
    defaults: tuple[str | None, str | None] = (None, None)  # warn, critical
    percent_only: bool = False


def _config(info: Mapping[str, Any], name: str) -> float | None:
    value = (info.get("config") or {}).get(name)
    return value if isinstance(value, (int, float)) and value > 0 else None


def _state(info: Mapping[str, Any], name: str) -> float:
    return float((info.get("state") or {}).get(name, 0))


CONSUMER_MEASURES = (
    Measure("unprocessed", "unprocessed", lambda i: float(i.get("num_pending", 0))),
    Measure("outstanding-ack", "ack pending", lambda i: float(i.get("num_ack_pending", 0)),
            lambda i: _config(i, "max_ack_pending"), ("80%", "100%")),
    Measure("redelivery", "redelivered", lambda i: float(i.get("num_redelivered", 0))),
)
STREAM_MEASURES = (
    Measure("usage", "messages", lambda i: _state(i, "messages"), lambda i: _config(i, "max_msgs"),
            ("80%", "95%"), percent_only=True),
    Measure("usage", "bytes", lambda i: _state(i, "bytes"), lambda i: _config(i, "max_bytes"),
            ("80%", "95%"), percent_only=True),
)
THRESHOLD_HELP = {
    "unprocessed": "consumer messages not yet delivered (lag, num_pending)",
    "outstanding-ack": "consumer messages awaiting ack (N, or P% of max_ack_pending)",
    "redelivery": "consumer messages redelivered (num_redelivered)",
    "usage": "stream messages and bytes, P% of max_msgs and max_bytes",
}
THRESHOLD_KEYS = sorted({m.key for m in CONSUMER_MEASURES + STREAM_MEASURES})


@dataclass
class Result:
    address: str
    state: int = OK
    messages: list[str] = field(default_factory=list)
    values: dict[str, dict[str, float | None]] = field(default_factory=dict)  # name -> value/warn/crit/max

    def raise_to(self, state: int, message: str) -> None:
        self.state = max(self.state, state)
        self.messages.append(message)


def thresholds_for(measure: Measure, metadata: Mapping[str, str], flags: Mapping[str, str | None],
                   address: str) -> tuple[Threshold | None, Threshold | None]:
    found = []
    for level, default in zip(LEVELS, measure.defaults, strict=True):
        name = f"{measure.key}-{level}"
        flag, meta = flags.get(name), metadata.get(METADATA_PREFIX + name)
        where = f"--{name}" if flag is not None else f"{address} metadata {METADATA_PREFIX}{name}"
        text = flag if flag is not None else meta if meta is not None else default
        threshold = None if text is None else Threshold.parse(text, where)
        if threshold and measure.percent_only and not threshold.percent:
            raise UserError(f"{where}: {measure.key} thresholds are percentages of the limit, like 80%")
        found.append(threshold)
    return found[0], found[1]


def evaluate(address: str, info: Mapping[str, Any] | None, measures: tuple[Measure, ...],
             flags: Mapping[str, str | None]) -> Result:
    """One resource: CRITICAL when missing, else the worst state of its measures."""
    result = Result(address)
    if info is None:
        result.raise_to(CRITICAL, "does not exist")
        return result
    metadata = (info.get("config") or {}).get("metadata") or {}
    for measure in measures:
        value, maximum = measure.value(info), measure.maximum(info)
        warn, crit = thresholds_for(measure, metadata, flags, address)
        warn_at = warn.limit(maximum) if warn else None
        crit_at = crit.limit(maximum) if crit else None
        result.values[measure.name] = {"value": value, "warn": warn_at, "critical": crit_at, "max": maximum}
        of = f" of {maximum:g}" if maximum else ""
        if crit_at is not None and value >= crit_at:
            result.raise_to(CRITICAL, f"{measure.name} {value:g}{of} >= critical {crit}")
        elif warn_at is not None and value >= warn_at:
            result.raise_to(WARNING, f"{measure.name} {value:g}{of} >= warning {warn}")
    return result


def add_drift(result: Result, differences: list[str]) -> None:
    """A resource that exists but differs from its manifest is a warning (``jsctl plan`` shows how)."""
    if differences:
        result.raise_to(WARNING, f"differs from the manifest ({', '.join(differences)})")


def overall(results: list[Result]) -> int:
    return max((r.state for r in results), default=OK)
