"""The Go type of every integer field of the configs nats-server decodes, and the range each holds.

nats-server reads StreamConfig and ConsumerConfig (server/stream.go, server/consumer.go; the same types
in 2.10 to 2.15) with Go's encoding/json: a number outside its field's type fails the whole request
("json: cannot unmarshal number 2147483648 into Go struct field ... of type int32"), so apply would stop
half-way. ``int`` is 64 bits on every platform nats-server ships for. Durations (``time.Duration``,
nanoseconds) and sizes are checked here after unit conversion, so ``300y`` is caught like its integer.
"""

from __future__ import annotations

from typing import Any

from .model import BUCKET_STREAM_FIELDS, CONSUMER, KV, OBJ, STREAM
from .units import FieldPath, values_at

_INT64 = (-(2**63), 2**63 - 1)
RANGES = {"int": _INT64, "int64": _INT64, "time.Duration": _INT64, "int32": (-(2**31), 2**31 - 1),
          "uint64": (0, 2**64 - 1)}

GO_TYPES: dict[str, dict[FieldPath, str]] = {
    STREAM: {
        ("max_consumers",): "int", ("max_msgs",): "int64", ("max_bytes",): "int64", ("max_age",): "time.Duration",
        ("max_msgs_per_subject",): "int64", ("max_msg_size",): "int32", ("num_replicas",): "int",
        ("duplicate_window",): "time.Duration", ("first_seq",): "uint64",
        ("subject_delete_marker_ttl",): "time.Duration",
        ("consumer_limits", "inactive_threshold"): "time.Duration", ("consumer_limits", "max_ack_pending"): "int",
        ("mirror", "opt_start_seq"): "uint64", ("sources", "*", "opt_start_seq"): "uint64",
    },
    CONSUMER: {
        ("opt_start_seq",): "uint64", ("ack_wait",): "time.Duration", ("max_deliver",): "int",
        ("backoff", "*"): "time.Duration", ("rate_limit_bps",): "uint64", ("max_waiting",): "int",
        ("max_ack_pending",): "int", ("idle_heartbeat",): "time.Duration", ("max_batch",): "int",
        ("max_expires",): "time.Duration", ("max_bytes",): "int", ("inactive_threshold",): "time.Duration",
        ("num_replicas",): "int", ("priority_timeout",): "time.Duration",
    },
}

# A bucket's integers are its backing stream's fields.
_BUCKET_INTEGERS = {KV: ("history", "ttl", "max_value_size", "max_bytes", "replicas", "limit_marker_ttl"),
                    OBJ: ("ttl", "max_bytes", "replicas")}
GO_TYPES |= {kind: {(field,): GO_TYPES[STREAM][(BUCKET_STREAM_FIELDS.get(field, field),)] for field in fields}
             for kind, fields in _BUCKET_INTEGERS.items()}


def range_problems(config: dict[str, Any], kind: str) -> list[tuple[tuple, str]]:
    """(path, message) for each integer of ``config`` (units converted) that its Go type cannot hold."""
    problems = []
    for path, go_type in GO_TYPES[kind].items():
        if path[0] not in config:  # most fields are not written: the cheapest way past them
            continue
        low, high = RANGES[go_type]
        for at, container, key in values_at(config, path):
            value = container[key]
            if value > high:
                problems.append((at, f"{value} is more than this field holds ({_largest(go_type, high)})"))
            elif value < low:
                problems.append((at, f"{value} is less than this field holds (a Go {go_type}: at least {low})"))
    return problems


def _largest(go_type: str, high: int) -> str:
    if go_type == "time.Duration":
        return f"a Go time.Duration: at most {high} ns, about 292 years"
    return f"a Go {go_type}: at most {high}"
