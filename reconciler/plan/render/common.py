"""What every renderer shares: values as JSON, the one-line summary, a change's head and its field lines."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..address import BUCKET_KINDS, JETSTREAM, KV_ENTRY, STREAM, STREAM_KINDS, Kind
from ..model import CHANGING_ACTIONS, NOTE_ACTIONS, Action, Change, FieldChange, Plan

ORDER = [Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE]  # then other changing actions by name

_encode = json.JSONEncoder(sort_keys=True, default=str).encode  # json.dumps with options makes one per call
# What _encode writes for these types, without its per-call set-up (a plan shows 30,000 values at 1,000 x 4)
_SCALARS = {str: json.encoder.encode_basestring_ascii, int: int.__repr__, bool: lambda v: "true" if v else "false"}


def show(value: Any) -> str:
    if value is None:
        return "(none)"
    scalar = _SCALARS.get(type(value))
    return scalar(value) if scalar else _encode(value)


SHOWN_VALUE_CHARS = 200  # a KV entry's value is cut there in text and Markdown (JSON keeps it whole)
HIDDEN = "(sensitive: not shown)"


def shown_value(change: Change, value: Callable[[str, Any], Any], path: str, raw: Any) -> str:
    """A field's value as a plan prints it: ``value`` (readable's) in units; a sensitive KV entry's never;
    a KV entry's shortened past SHOWN_VALUE_CHARS."""
    if change.details.sensitive:
        return HIDDEN
    text = show(value(path, raw))
    if change.address.kind is KV_ENTRY and len(text) > SHOWN_VALUE_CHARS:
        return f"{text[:SHOWN_VALUE_CHARS]}… ({len(text)} characters)"
    return text


def summary(plan: Plan) -> str:
    counts = Counter(c.action for c in plan.changes)
    parts = []
    if plan.pending:
        actions = ORDER + sorted(CHANGING_ACTIONS - set(ORDER))
        parts.append("Plan: " + ", ".join(f"{counts[a]} to {a}" for a in actions if counts[a]) + ".")
    elif not plan.errors:  # with errors, nothing is known to be in sync
        parts.append("No changes.")
    if plan.errors:
        n = len(plan.errors)
        parts.append(f"{n} error{'s' if n > 1 else ''}: nothing can be applied until "
                     f"{'they are' if n > 1 else 'it is'} fixed.")
    notes = [f"{counts[a]} {a}" for a in sorted(NOTE_ACTIONS) if counts[a]]
    return " ".join(parts) + (f" Notes: {', '.join(notes)}." if notes else "")


def target(context: dict[str, Any]) -> dict[str, str]:
    """Where a plan applies, from its context: ``cluster`` (a cluster's name: its nodes take turns) or
    ``server``, ``account`` when the server said, ``domain`` (JetStream's, when one is in use),
    ``database`` (its URL without credentials)."""
    nats = context.get("nats") or {}
    found = {"cluster": nats.get("cluster")} if nats.get("cluster") else {"server": nats.get("server_name")}
    found |= {"account": nats.get("account"), "domain": nats.get("domain"), "database": context.get("database")}
    return {key: value for key, value in found.items() if value}


def flags(change: Change) -> str:
    """Risk flags a reviewer needs (database revisions: destructive, rewrite, long-lock, ...)."""
    found = change.details.flags
    return f"  [{', '.join(found)}]" if found else ""


def head(change: Change) -> str:
    return f"{change.address}  {change.action}" + (f" ({change.reason})" if change.reason else "") + flags(change)


def readable(kind: Kind) -> Callable[[str, Any], Any]:
    """(dotted field path, value) -> the value as a manifest writes it: a JetStream field's durations and
    sizes in units (``1y``, ``1GiB``); anything else as it is (JSON keeps the raw integers). A bucket's
    changes are its backing stream's fields."""
    if kind.target != JETSTREAM or kind is KV_ENTRY:
        return lambda path, value: value
    from ...manifest.schema import field_in_units

    return field_in_units(STREAM.prefix if kind in STREAM_KINDS else kind.prefix)


def named(kind: Kind) -> Callable[[str], str]:
    """(dotted field path) -> how a reader knows the field: a bucket's backing stream field with the bucket
    field a manifest writes for it (``max_age (ttl)``); any other as it is."""
    if kind not in BUCKET_KINDS:
        return lambda path: path
    from ...jetstream.buckets import bucket_field

    return lambda path: path if bucket_field(path) == path else f"{path} ({bucket_field(path)})"


def shown_diff(change: Change, *, marks: bool = False) -> list[FieldChange]:
    """The field changes a reader reviews: jsctl's ownership marks (``metadata.io.jsctl.*``) are not
    configuration (an adopt's reason says what it does; the JSON plan keeps them), unless ``marks``."""
    from ...jetstream.ownership import MARK_PREFIX

    return [d for d in change.diff if marks or not d.path.startswith(f"metadata.{MARK_PREFIX}")]


def _shown_config(config: dict[str, Any]) -> dict[str, Any]:
    """A config to create, as a reader reviews it: without jsctl's ownership marks."""
    from ...jetstream.ownership import without_marks

    metadata = without_marks(config.get("metadata") or {})
    return {k: v for k, v in config.items() if k != "metadata"} | ({"metadata": metadata} if metadata else {})


def _bucket_settings(change: Change) -> dict[str, Any] | None:
    """A bucket to create, as its manifest item writes it (units included); None for anything else."""
    if change.address.kind not in BUCKET_KINDS:
        return None
    from ...jetstream.buckets import bucket_of
    from ...manifest.schema import unit_table
    from ...manifest.units import with_units

    found = bucket_of(change.desired or {})
    return with_units(found[2], unit_table()[found[0]]) if found else None


def field_lines(change: Change, *, as_diff: bool = False, marks: bool = False) -> list[str]:
    """What a change does, one line per field: ``path: before -> after``, or as ```diff lines
    (``- path: before`` / ``+ path: after``) for Markdown; a create's config; what a replace destroys.
    ``marks``: jsctl's ownership marks too (a stale saved plan names who took a resource over)."""
    value, name = readable(change.address.kind), named(change.address.kind)

    def field(path: str, raw: Any) -> str:
        return f"{name(path)}: {shown_value(change, value, path, raw)}"

    lines = []
    for d in shown_diff(change, marks=marks):
        if change.details.sensitive:
            lines.append(f"{'  ' if as_diff else ''}{field(d.path, None)}")
        elif not as_diff:
            lines.append(f"{field(d.path, d.before)} -> {shown_value(change, value, d.path, d.after)}")
        else:
            lines += [f"- {field(d.path, d.before)}"] if d.before is not None else []
            lines += [f"+ {field(d.path, d.after)}"] if d.after is not None else []
    added, note = ("+ ", "  ") if as_diff else ("", "")
    if change.action == Action.CREATE and change.desired and not change.diff:
        settings = _bucket_settings(change)
        if settings is None:
            lines += [f"{added}{field(k, v)}" for k, v in sorted(_shown_config(change.desired).items())]
        else:
            lines += [f"{added}{k}: {show(v)}" for k, v in settings.items()]
    destroys = change.details.destroys
    if destroys:
        lines.append(f"{note}destroys: " + ", ".join(f"{k}={show(v)}" for k, v in destroys.items()))
    return lines
