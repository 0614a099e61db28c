"""Live configs -> manifest items holding only what differs from the server's defaults. Pure.

A field is left out when leaving it out normalizes to the same config, so `jsctl plan` right after
an export shows no changes by construction (tests/jetstream/test_js_cli.py checks it live).
"""

from __future__ import annotations

from typing import Any

from ..manifest.model import CONSUMER, STREAM
from ..manifest.units import with_units
from .normalize import normalize, user_metadata
from .observe import Live

# Kept even when leaving them out changes nothing: names say what the item is, and the manifest
# validator wants rollups written out where schedules or delete markers depend on them.
KEEP_FIELDS = {STREAM: ("name", "allow_rollup_hdrs"), CONSUMER: ("name",)}


def minimal(kind: str, config: dict[str, Any], live: Live, related: dict[str, Any] | None = None) -> dict[str, Any]:
    config = {k: v for k, v in config.items() if k not in ("durable_name", "stream_name")} if kind == CONSUMER \
        else dict(config)
    config["metadata"] = user_metadata(config.get("metadata"))
    target = normalize(kind, config, live.version, related)
    for key in list(config):
        if key in KEEP_FIELDS[kind] and config[key]:
            continue
        trial = {k: v for k, v in config.items() if k != key}
        if normalize(kind, trial, live.version, related) == target:
            config = trial
    return config


def export_manifests(live: Live, streams: set[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(stream items, consumer items) for ``streams.yaml`` / ``consumers.yaml``, sorted by name."""
    from ..manifest.schema import unit_table

    names = sorted(n for n in live.streams if streams is None or n in streams)
    def origin(config: dict[str, Any]) -> dict[str, Any] | None:
        return (live.streams.get((config.get("mirror") or {}).get("name", "")) or {}).get("config")

    stream_items = [with_units(minimal(STREAM, live.streams[n]["config"], live, origin(live.streams[n]["config"])),
                               unit_table()[STREAM]) for n in names]
    consumer_items = []
    for stream, name in sorted(k for k in live.consumers if k[0] in names):
        stream_config = live.streams[stream]["config"]
        config = minimal(CONSUMER, live.consumers[(stream, name)]["config"], live, stream_config)
        consumer_items.append({"stream": stream, **with_units(config, unit_table()[CONSUMER])})
    return stream_items, consumer_items
