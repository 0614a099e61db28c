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

Measures are counts (messages, bytes), so values, limits and thresholds are integers: a threshold of
2.5 or of 80% of 7 is reached at the next whole count (3, 6), which is what reports show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..errors import UserError
from ..manifest.units import in_unit

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
METADATA_PREFIX = "io.nats.monitor."
LEVELS = ("warn", "critical")


@dataclass(frozen=True)
class Threshold:
    amount: Decimal
    percent: bool = False

    @classmethod
    def parse(cls, text: str | int | float, where: str) -> Threshold | None:
        """``"100"`` -> 100 items; ``"80%"`` -> 80 % of the limit; ``"0"`` -> no threshold."""
        raw = str(text).strip()
        percent = raw.endswith("%")
        number = raw.rstrip("%").strip()
        try:  # float first: it refuses what is not a finite number of a size a count can have
            rough = float(number)
        except ValueError:
            rough = math.inf
        if not math.isfinite(rough):
            raise UserError(f"{where}: threshold {raw!r} is not a number or a percentage like 80%")
        amount = Decimal(number)  # exactly as written: 0.0001% of 100000000 is 100
        if rough == 0 and amount != 0:  # e.g. 1e-99999999: its exact limit and its digits would take forever
            raise UserError(f"{where}: threshold {raw!r} is too small to be a count or a percentage of one")
        return None if amount <= 0 else cls(amount, percent)

    def limit(self, maximum: int | None) -> int | None:
        """The count at which this threshold is reached (the next whole one); None when a percentage has
        no limit to apply to."""
        if not self.percent:
            return math.ceil(self.amount)
        return math.ceil(maximum * Fraction(self.amount) / 100) if maximum and maximum > 0 else None

    def __str__(self) -> str:
        return format(self.amount.normalize(), "f") + ("%" if self.percent else "")


@dataclass(frozen=True)
class Measure:
    """One number checked on a stream or consumer info: its value, its limit, its threshold key."""

    key: str  # threshold key: flags --KEY-warn, metadata io.nats.monitor.KEY-warn
    name: str  # in messages and perfdata
    value: Callable[[Mapping[str, Any]], int]
    maximum: Callable[[Mapping[str, Any]], int | None] = lambda info: None
    defaults: tuple[str | None, str | None] = (None, None)  # warn, critical
    percent_only: bool = False
    unit: str = ""  # Nagios's unit of measure: "B" for bytes, none for a number of things

    def show(self, value: int) -> str:
        """``1815 B``, ``1 GiB`` (bytes in the largest unit they are a whole number of), a count as is."""
        if self.unit != "B":
            return str(value)
        number, unit = in_unit("size", value)
        return f"{number} {unit or 'B'}"


def _config(info: Mapping[str, Any], name: str) -> int | None:
    value = (info.get("config") or {}).get(name)
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def _count(mapping: Mapping[str, Any] | None, name: str) -> int:
    return int((mapping or {}).get(name, 0))


CONSUMER_MEASURES = (
    Measure("unprocessed", "unprocessed", lambda i: _count(i, "num_pending")),
    Measure("outstanding-ack", "ack pending", lambda i: _count(i, "num_ack_pending"),
            lambda i: _config(i, "max_ack_pending"), ("80%", "100%")),
    Measure("redelivery", "redelivered", lambda i: _count(i, "num_redelivered")),
)
STREAM_MEASURES = (
    Measure("usage", "messages", lambda i: _count(i.get("state"), "messages"), lambda i: _config(i, "max_msgs"),
            ("80%", "95%"), percent_only=True),
    Measure("usage", "bytes", lambda i: _count(i.get("state"), "bytes"), lambda i: _config(i, "max_bytes"),
            ("80%", "95%"), percent_only=True, unit="B"),
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
    values: dict[str, dict[str, int | None]] = field(default_factory=dict)  # name -> value/warn/critical/max
    measures: dict[str, Measure] = field(default_factory=dict)  # name -> how its values read
    flagged: set[str] = field(default_factory=set)  # names of the measures a message is about

    def raise_to(self, state: int, message: str, measure: str | None = None) -> None:
        self.state = max(self.state, state)
        self.messages.append(message)
        if measure is not None:
            self.flagged.add(measure)


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
        result.measures[measure.name] = measure
        of = f" of {measure.show(maximum)}" if maximum else ""
        if crit_at is not None and value >= crit_at:
            result.raise_to(CRITICAL, f"{measure.name} {measure.show(value)}{of} >= critical {crit}", measure.name)
        elif warn_at is not None and value >= warn_at:
            result.raise_to(WARNING, f"{measure.name} {measure.show(value)}{of} >= warning {warn}", measure.name)
    return result


def add_drift(result: Result, differences: list[str]) -> None:
    """A resource that exists but differs from its manifest is a warning (``jsctl plan`` shows how)."""
    if differences:
        result.raise_to(WARNING, f"differs from the manifest ({', '.join(differences)})")


def overall(results: list[Result]) -> int:
    return max((r.state for r in results), default=OK)
