"""Live configs -> manifest items. Pure.

By default an item holds only what differs from the server's defaults: a field is left out when
leaving it out normalizes to the same config, so `jsctl plan` right after an export changes no field
(it adopts what jsctl did not create; tests/jetstream/test_js_export.py checks it live). With
``include_defaults`` an item holds every field as the server stores it.

A stream that backs a KV bucket or an object store is written as that bucket: a ``key_value:`` or
``object_stores:`` item holding the settings that differ from a bucket's defaults (buckets.bucket_of),
never as the raw stream.

Either way: consumers are written with ``durable_name`` (the key the docs use), their ``ack_policy``
always (the server's default, ``none``, is not what a reader assumes), and no item carries jsctl's
own metadata marks (``io.jsctl.*``) or the server's (``_nats.*``). Consumers a manifest cannot declare
are left out: ephemeral ones (no ``durable_name``: a client's, gone when it disconnects) and the
server's own (a mirror's or a source's, listed from nats-server 2.14 on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..manifest.checks import SERVER_OWN_CONSUMER_FIELDS
from ..manifest.model import CONSUMER, KV, STREAM
from ..manifest.units import with_units
from .buckets import bucket_of
from .defaults import local_origin
from .normalize import is_ephemeral, normalize, user_metadata
from .observe import Live

# Kept even when leaving them out changes nothing: names say what the item is, the manifest
# validator wants rollups written out where schedules or delete markers depend on them, and an ack
# policy left out reads as natscli's `explicit` while the server's default is `none`.
KEEP_FIELDS = {STREAM: ("name", "allow_rollup_hdrs"), CONSUMER: ("durable_name", "ack_policy")}
# What the server stores that a manifest does not write: the consumer's stream (the item's `stream:`)
# and its name twice (`durable_name` says it).
SERVER_ONLY = {STREAM: (), CONSUMER: ("stream_name", "name")}


@dataclass
class Exported:
    streams: list[dict[str, Any]] = field(default_factory=list)  # streams.yaml items, sorted by name
    consumers: list[dict[str, Any]] = field(default_factory=list)  # consumers.yaml items (with `stream`)
    key_value: list[dict[str, Any]] = field(default_factory=list)  # buckets.yaml items, sorted by bucket
    object_stores: list[dict[str, Any]] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # "STREAM/NAME" of a consumer left out -> why


def undeclarable(config: dict[str, Any]) -> str | None:
    """Why a manifest cannot declare this live consumer, or None when it can."""
    if any(config.get(name) for name in SERVER_OWN_CONSUMER_FIELDS):
        return "the server's own"
    if is_ephemeral(config):
        return "ephemeral"  # the server deletes it once its client is gone
    return None


def manifest_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as stored, without what a manifest does not write; metadata without jsctl's and the server's keys."""
    out = {k: v for k, v in config.items() if k not in SERVER_ONLY[kind] and k != "metadata"}
    metadata = user_metadata(config.get("metadata"))
    return {**out, "metadata": metadata} if metadata else out


def minimal(kind: str, config: dict[str, Any], live: Live, related: dict[str, Any] | None = None) -> dict[str, Any]:
    """``config`` without every field whose absence normalizes to the same config (KEEP_FIELDS stay)."""
    config = manifest_config(kind, config)
    target = normalize(kind, config, live.version, related)
    for key in list(config):
        if key in KEEP_FIELDS[kind] and config[key]:
            continue
        trial = {k: v for k, v in config.items() if k != key}
        if normalize(kind, trial, live.version, related) == target:
            config = trial
    return config


def export_manifests(live: Live, streams: set[str] | None = None, *, include_defaults: bool = False) -> Exported:
    """The manifest items of the live streams (or only ``streams``) and their durable consumers."""
    from ..manifest.schema import unit_table

    def item(kind: str, config: dict[str, Any], related: dict[str, Any] | None) -> dict[str, Any]:
        written = manifest_config(kind, config) if include_defaults else minimal(kind, config, live, related)
        return with_units(written, unit_table()[kind])

    def origin(config: dict[str, Any]) -> dict[str, Any] | None:
        return (live.streams.get(local_origin(config.get("mirror")) or "") or {}).get("config")

    exported = Exported()
    names = sorted(n for n in live.streams if streams is None or n in streams)
    for name in names:
        config = live.streams[name]["config"]
        bucket = bucket_of(config)
        if bucket is None:
            exported.streams.append(item(STREAM, config, origin(config)))
            continue
        kind, _, spec = bucket  # its settings only (buckets.bucket_of), with or without include_defaults
        (exported.key_value if kind == KV else exported.object_stores).append(with_units(spec, unit_table()[kind]))
    for stream, name in sorted(k for k in live.consumers if k[0] in names):
        config = live.consumers[(stream, name)]["config"]
        why = undeclarable(config)
        if why:
            exported.left_out[f"{stream}/{name}"] = why
            continue
        written = item(CONSUMER, config, live.streams[stream]["config"])
        exported.consumers.append({"stream": stream, "durable_name": written.pop("durable_name"), **written})
    return exported
