"""The canonical form both sides of a diff are brought to, so that ``==`` means "no change".

- server defaults for the connected version filled in (defaults.py), so an omitted field that
  equals the default is no change;
- zero values (false, 0, "", [], {}, null) dropped at every level: the server omits them too;
- server-owned ``_nats.*`` metadata and jsctl's own marks (``io.jsctl.*``, ownership.py) ignored;
- order-insensitive lists (subjects, filter_subjects, tags, sources...) sorted;
- timestamps in UTC with a ``Z``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..manifest.model import STREAM
from .capabilities import Version
from .defaults import consumer_defaults, stream_defaults
from .ownership import MARK_PREFIX

SET_FIELDS = frozenset({"subjects", "filter_subjects", "priority_groups", "tags"})
UNORDERED_OBJECT_LISTS = frozenset({"sources"})
TIME_FIELDS = frozenset({"opt_start_time", "pause_until"})


def is_ephemeral(consumer: dict[str, Any]) -> bool:
    """A consumer created without a durable name: a client's ephemeral or ordered consumer (push or
    pull), which the server deletes after its inactive_threshold (set by the server when the client
    gives none, on every supported version). Never jsctl's, which creates durables only."""
    return not consumer.get("durable_name")


def _without_server_keys(metadata: dict[str, str] | None) -> dict[str, str]:
    """Metadata without the ``_nats.*`` keys servers inject (their version, API level)."""
    return {k: v for k, v in (metadata or {}).items() if not k.startswith("_nats.")}


def user_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """Metadata without the server's ``_nats.*`` keys and without jsctl's own ``io.jsctl.*`` marks."""
    return {k: v for k, v in _without_server_keys(metadata).items() if not k.startswith(MARK_PREFIX)}


def canonical_time(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


_SCALARS = frozenset({str, int, float, bool})


def _canonical(value: Any, key: str = "") -> Any:
    """Zero values become None (dropped by the caller); lists that are sets get a stable order."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if type(v) in _SCALARS and k not in TIME_FIELDS:  # most fields: kept unless zero, without a call
                if v:
                    out[k] = v
            elif (c := _canonical(v, k)) is not None:
                out[k] = c
        return out or None
    if isinstance(value, list):
        items = [c for v in value if (c := _canonical(v)) is not None]
        if not items:
            return None
        if key in SET_FIELDS:
            return sorted(set(items))
        if key in UNORDERED_OBJECT_LISTS:
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        return items
    if value is False or value == 0 or value == "" or value is None:
        return None  # note: `0 == False`, so both spellings of "off" land here
    if key in TIME_FIELDS and isinstance(value, str):
        return canonical_time(value)
    return value


def normalize(kind: str, config: dict[str, Any], server: Version,
              related: dict[str, Any] | None = None) -> dict[str, Any]:
    """The canonical form of a stream (``kind=STREAM``) or consumer config for the connected server.

    ``related`` is the config some defaults come from: a consumer's stream (its consumer limits),
    a mirror's origin (its allow_direct).
    """
    config = {**config, "metadata": user_metadata(config.get("metadata"))}
    if kind == STREAM:
        full = stream_defaults(config, server, related)
    else:
        full = consumer_defaults(config, related, server)
        full.pop("stream_name", None)
    return _canonical(full) or {}


def as_read(config: dict[str, Any]) -> dict[str, Any]:
    """A live config in canonical form, as the server reported it (no defaults filled in: it has
    them), with every metadata key but the server's own, jsctl's ownership marks included: what a
    saved plan's basis records, to compare with the same server's answer later."""
    return _canonical({**config, "metadata": _without_server_keys(config.get("metadata"))}) or {}


class NormalizeCache:
    """``normalize`` that keeps its results for the config objects it was given.

    One apply normalizes each desired config for its plan and again for its verify, and each reply
    for its verify: with one cache, the plan's results serve the verify, and replies are normalized
    as they arrive, while the server works on the next requests (see verify.Verifier). A result is
    reused only for the very same config and related objects (kept alive by the entry, so their ids
    stay theirs); configs are never changed in place (manifests once loaded, JSON replies).
    """

    def __init__(self) -> None:
        self._results: dict[int, tuple[dict[str, Any], dict[str, Any] | None, str, Version, dict[str, Any]]] = {}

    def __call__(self, kind: str, config: dict[str, Any], server: Version,
                 related: dict[str, Any] | None = None) -> dict[str, Any]:
        entry = self._results.get(id(config))
        if entry is not None and entry[1] is related and entry[2] == kind and entry[3] == server:
            return entry[4]
        result = normalize(kind, config, server, related)
        self._results[id(config)] = (config, related, kind, server, result)
        return result
