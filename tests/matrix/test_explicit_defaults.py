"""A field written out at the value the server treats as its default changes nothing, on every
supported version (tests/matrix/conftest.py): apply creates it, apply's verify passes, and the
plan afterwards is empty.

One table, ``EXPLICIT_DEFAULTS``, spells each field's default (some have several spellings, some a
default that depends on other fields); each case becomes one test per version. Every manifest field
is either in it or in ``NO_DEFAULT`` with the reason, and every field the servers fill in (the
committed measurements) or the reference schemas give a ``default`` must be in it: a new field
fails ``test_every_field_with_a_default_is_in_the_table`` until it is classified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import REFERENCE_SCHEMAS, apply_and_replan, write_manifests
from tools.server_versions import load

from reconciler.manifest.model import CONSUMER, STREAM
from reconciler.manifest.schema import manifest_schema

S = 1_000_000_000
STREAM_NAME = "D"
CONSUMER_NAME = "C"
DELETE = object()  # a context entry that removes the key from the base config


@dataclass(frozen=True)
class Spelling:
    """``value`` written for the field, in a context where it is the server's default."""

    value: Any
    stream: dict[str, Any] = field(default_factory=dict)  # the stream's other fields (DELETE removes one)
    consumer: dict[str, Any] = field(default_factory=dict)  # the consumer's other fields
    origin: dict[str, Any] | None = None  # a stream declared beside it (a mirror's origin)
    label: str = ""


def at(*values: Any, **context: Any) -> list[Spelling]:
    return [Spelling(value, **context) for value in values]


EXPLICIT = {"ack_policy": "explicit"}
PUSH = {"deliver_subject": "push.d"}
MIRROR = {"mirror": {"name": "ORIGIN"}, "subjects": DELETE}
LIMITS = {"consumer_limits": {"max_ack_pending": 50, "inactive_threshold": 3600 * S}}
IDLE_LIMIT = {"consumer_limits": {"inactive_threshold": 3600 * S}}  # a push consumer without acks can take this one
FLOW_CONTROL = {"ack_policy": "flow_control", "flow_control": True, "idle_heartbeat": S}
PINNED = {"priority_groups": ["jobs"], "priority_policy": "pinned_client"}
OFF = (False,)

# (kind, field or dotted path) -> the spellings of its default. Dotted paths are fields of an object.
EXPLICIT_DEFAULTS: dict[tuple[str, str], list[Spelling]] = {
    (STREAM, "description"): at(""),
    (STREAM, "subjects"): at([STREAM_NAME], stream={"subjects": DELETE}, label="its own name"),
    (STREAM, "retention"): at("limits"),
    (STREAM, "max_consumers"): at(-1, 0),
    (STREAM, "max_msgs"): at(-1, 0),
    (STREAM, "max_msgs_per_subject"): at(-1, 0),
    (STREAM, "max_bytes"): at(-1, 0),
    (STREAM, "max_age"): at(0),
    (STREAM, "max_msg_size"): at(-1, 0),
    (STREAM, "storage"): at("file"),
    (STREAM, "compression"): at("none"),
    (STREAM, "first_seq"): at(0),
    (STREAM, "num_replicas"): at(1, 0),
    (STREAM, "no_ack"): at(*OFF),
    (STREAM, "discard"): at("old"),
    (STREAM, "duplicate_window"): [*at(120 * S, 0), *at(60 * S, 0, stream={"max_age": 60 * S}, label="short max_age")],
    (STREAM, "placement"): at({}),
    (STREAM, "sources"): at([]),
    (STREAM, "sealed"): at(*OFF),
    (STREAM, "deny_delete"): at(*OFF),
    (STREAM, "deny_purge"): at(*OFF),
    (STREAM, "allow_rollup_hdrs"): at(*OFF),
    (STREAM, "allow_direct"): at(*OFF),
    (STREAM, "allow_atomic"): at(*OFF),
    (STREAM, "allow_msg_counter"): at(*OFF),
    (STREAM, "allow_msg_schedules"): at(*OFF),
    (STREAM, "mirror_direct"): [
        *at(*OFF),
        *at(True, stream=MIRROR, origin={"allow_direct": True}, label="mirror of a direct origin"),
        *at(False, stream=MIRROR, origin={}, label="mirror of an origin without direct"),
    ],
    (STREAM, "republish.src"): at(">", stream={"republish": {"dest": "out.>"}}),
    (STREAM, "republish.headers_only"): at(False, stream={"republish": {"dest": "out.>"}}),
    (STREAM, "discard_new_per_subject"): at(*OFF),
    (STREAM, "metadata"): at({}),
    (STREAM, "consumer_limits"): at({}, {"max_ack_pending": 0, "inactive_threshold": 0}),
    (STREAM, "allow_msg_ttl"): at(*OFF),
    (STREAM, "subject_delete_marker_ttl"): at(0),
    (STREAM, "persist_mode"): at("default", ""),
    (STREAM, "allow_batched"): at(*OFF),
    (CONSUMER, "name"): at(CONSUMER_NAME, label="its durable_name"),
    (CONSUMER, "description"): at(""),
    (CONSUMER, "deliver_policy"): at("all"),
    (CONSUMER, "ack_policy"): [*at("none"), *at("none", consumer=PUSH, label="push")],
    (CONSUMER, "ack_wait"): [*at(30 * S, 0, consumer=EXPLICIT), *at(30 * S, consumer={"ack_policy": "all"}),
                             *at(2 * S, consumer={**EXPLICIT, "backoff": [2 * S, 4 * S], "max_deliver": 3},
                                 label="backoff[0]")],
    (CONSUMER, "max_deliver"): at(-1, 0),
    (CONSUMER, "filter_subject"): at(""),
    (CONSUMER, "filter_subjects"): at([]),
    (CONSUMER, "replay_policy"): at("instant"),
    (CONSUMER, "rate_limit_bps"): at(0, consumer=PUSH),
    (CONSUMER, "max_ack_pending"): [
        *at(1000, 0, consumer=EXPLICIT), *at(1000, consumer={"ack_policy": "all"}),
        *at(1000, consumer={**EXPLICIT, **PUSH}, label="push"),
        *at(1000, 0, consumer={**FLOW_CONTROL, **PUSH}, label="ack flow_control"),
        *[Spelling(value, stream=LIMITS, consumer=context, label=f"under consumer_limits, {what}")
          for value in (50, 0) for what, context in (("ack none", {}), ("ack explicit", EXPLICIT),
                                                     ("ack all", {"ack_policy": "all"}),
                                                     ("push ack explicit", {**EXPLICIT, **PUSH}),
                                                     ("push ack flow_control", {**FLOW_CONTROL, **PUSH}))],
    ],
    (CONSUMER, "idle_heartbeat"): at(0, consumer=PUSH),
    (CONSUMER, "flow_control"): at(False, consumer=PUSH),
    (CONSUMER, "max_waiting"): at(512, 0),
    (CONSUMER, "direct"): at(*OFF),
    (CONSUMER, "sourcing"): at(*OFF),
    (CONSUMER, "headers_only"): at(*OFF),
    (CONSUMER, "max_batch"): at(0),
    (CONSUMER, "max_expires"): at(0),
    (CONSUMER, "max_bytes"): at(0),
    (CONSUMER, "inactive_threshold"): [
        *at(0),
        *[Spelling(value, stream=limits, consumer=context, label=f"under consumer_limits, {what}")
          for value in (3600 * S, 0) for what, limits, context in (("ack none", LIMITS, {}),
                                                                   ("ack explicit", LIMITS, EXPLICIT),
                                                                   ("push ack none", IDLE_LIMIT, PUSH))],
    ],
    (CONSUMER, "backoff"): at([]),
    (CONSUMER, "num_replicas"): at(0),
    (CONSUMER, "mem_storage"): at(*OFF),
    (CONSUMER, "metadata"): at({}),
    (CONSUMER, "priority_groups"): at([]),
    (CONSUMER, "priority_policy"): at("none"),
    (CONSUMER, "priority_timeout"): [*at(0), *at(120 * S, 0, consumer=PINNED, label="pinned_client")],
    (CONSUMER, "opt_start_seq"): at(0),
}

# Fields whose only default is being absent (validate refuses an empty value), or that name the resource.
# (republish has none either, but its fields have: they are in the table.)
NO_DEFAULT: dict[tuple[str, str], str] = {
    (STREAM, "name"): "required: names the stream",
    (STREAM, "subject_transform"): "absent: no transform",
    (STREAM, "mirror"): "absent: not a mirror",
    (CONSUMER, "stream"): "required: the consumer's stream (a manifest field)",
    (CONSUMER, "durable_name"): "names the consumer",
    (CONSUMER, "deliver_subject"): "absent: a pull consumer",
    (CONSUMER, "deliver_group"): "absent: no queue group",
    (CONSUMER, "sample_freq"): "absent: no sampling",
    (CONSUMER, "opt_start_time"): "absent: no start time",
    (CONSUMER, "pause_until"): "absent: not paused",
}


def cases():
    for (kind, path), spellings in EXPLICIT_DEFAULTS.items():
        for spelling in spellings:
            label = f"[{spelling.label}]" if spelling.label else ""
            yield pytest.param(kind, path, spelling, id=f"{kind}.{path}={spelling.value!r}{label}")


def _with(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in config.items() if overrides.get(k) is not DELETE}
    out.update({k: v for k, v in overrides.items() if v is not DELETE})
    return out


def _set(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {**config, head: _set(config.get(head) or {}, rest, value) if rest else value}


def manifests(kind: str, path: str, spelling: Spelling) -> tuple[list[dict], list[dict]]:
    stream = _with({"name": STREAM_NAME, "subjects": [f"{STREAM_NAME}.>"]}, spelling.stream)
    consumer = _with({"stream": STREAM_NAME, "durable_name": CONSUMER_NAME}, spelling.consumer)
    if kind == STREAM:
        stream = _set(stream, path, spelling.value)
    else:
        consumer = _set(consumer, path, spelling.value)
    origins = [] if spelling.origin is None else [{"name": "ORIGIN", "subjects": ["origin.>"], **spelling.origin}]
    return [*origins, stream], [consumer] if kind == CONSUMER else []


@pytest.mark.parametrize(("kind", "path", "spelling"), list(cases()))
def test_a_field_written_at_its_default_plans_empty_after_apply(js_account, tmp_path, kind, path, spelling):
    write_manifests(tmp_path, *manifests(kind, path, spelling))
    assert apply_and_replan(js_account, tmp_path) == {}


def _top_level(kind: str) -> set[str]:
    return {path.split(".")[0] for k, path in EXPLICIT_DEFAULTS if k == kind}


PROBE_WROTE = {"name", "durable_name", "deliver_subject"}  # what the measured minimal creates wrote themselves


def test_every_field_with_a_default_is_in_the_table(nats_server_version):
    """Every manifest field is classified; those the server fills in, or the reference schemas give a
    ``default``, have their default spelled out in the table."""
    measured = load(nats_server_version)
    stored = {STREAM: set(measured["stream_defaults"]),
              CONSUMER: {f for case in ("pull", "push") for f in measured["consumer_defaults"][case]}}
    for kind in (STREAM, CONSUMER):
        covered, skipped = _top_level(kind), {f for k, f in NO_DEFAULT if k == kind}
        assert not covered & skipped, covered & skipped
        fields = set(manifest_schema()["$defs"][kind]["properties"])
        assert fields - covered - skipped == set(), f"{kind}: classify these in EXPLICIT_DEFAULTS or NO_DEFAULT"
        assert stored[kind] - PROBE_WROTE - covered == set(), f"{kind}: the server fills these in"
        if REFERENCE_SCHEMAS is not None:
            name = "stream_configuration.json" if kind == STREAM else "consumer_configuration.json"
            properties = json.loads((REFERENCE_SCHEMAS / name).read_text())["properties"]
            assert {f for f, spec in properties.items() if "default" in spec} - covered == set()
