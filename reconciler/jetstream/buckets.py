"""Key-value buckets and object stores as their backing streams, both ways (pure: no I/O).

A bucket *is* its backing stream (``KV_<bucket>``, ``OBJ_<bucket>``), configured as NATS ADR-8 (KV),
ADR-20 (object store), ADR-57 (KV mirrors and sources) and nats.go / natscli create it; research and
measurements in docs/research/buckets.md. A bucket's *spec* is its manifest item after unit conversion
(``bucket``, ``history``, ``ttl`` in nanoseconds...; ``entries`` are no stream setting and ignored here).

- :func:`stream_config`: the stream jsctl creates for a declared bucket.
- :func:`bucket_of`: a live stream read back as a bucket spec, or None when it is no bucket jsctl could
  declare (for observe and export).
- :func:`stream_differences` / :func:`same_bucket`: a declared spec against a live backing stream,
  blind to what the reference clients legitimately set differently for the same bucket settings
  (:data:`CLIENT_VARIANCES`), so a bucket another client made plans as adopt, never update or replace.
"""

from __future__ import annotations

from typing import Any

from ..manifest.kvnames import KV_PREFIX, MAX_HISTORY, OBJ_PREFIX, bucket_name_problem
from ..manifest.model import BUCKET_STREAM_FIELDS, KV, OBJ, STREAM
from ..plan.model import FieldChange
from .capabilities import FIELD_SINCE, Version
from .defaults import DEFAULT_DUPLICATE_WINDOW
from .diff import field_changes
from .normalize import normalize, user_metadata

__all__ = ["KV", "OBJ", "backing_stream_name", "bucket_field", "bucket_of", "left_open", "same_bucket",
           "stream_config", "stream_differences"]

PREFIXES = {KV: KV_PREFIX, OBJ: OBJ_PREFIX}
TTL_FIELDS_SINCE = FIELD_SINCE[(KV, "limit_marker_ttl")]
# bucket_of's check that a spec gives back the live stream uses no version-dependent default: any
# supported version gives the same answer (stream_config's only version test is for fields older
# servers drop, so their streams never hold them).
_READ_BACK_VERSION: Version = (2, 15, 0)

# What clients set differently for the same bucket settings; ignored when the manifest does not
# declare it (docs/manifests.md, "Key-value buckets and object stores").
CLIENT_VARIANCES = {
    "allow_direct": "nats-py leaves it unset (the server stores false); ADR-8/20, nats.go and natscli set true",
    "allow_msg_ttl": "nats-py sets it on every KV bucket (2.11+) with no limit markers; the others only with them",
    "mirror_direct": "the server derives it from the origin's allow_direct",
}

# Stream field -> the bucket field a manifest writes for it, where the names differ; the fields that
# follow from one bucket field count as it.
_BUCKET_FIELDS = {stream_field: field for field, stream_field in BUCKET_STREAM_FIELDS.items()} | {
    "duplicate_window": "ttl", "allow_msg_ttl": "limit_marker_ttl"}


def backing_stream_name(kind: str, bucket: str) -> str:
    return PREFIXES[kind] + bucket


def kv_subject_prefix(bucket: str) -> str:
    """The subject prefix of a KV bucket's keys: ``$KV.<bucket>.`` (a key ``k`` is ``$KV.<bucket>.k``)."""
    return f"$KV.{bucket}."


def _subjects(kind: str, bucket: str) -> list[str]:
    """The subjects of a bucket's backing stream: a KV bucket's keys; an object store's chunks and metadata (ADR-20)."""
    return [f"$KV.{bucket}.>"] if kind == KV else [f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"]


def _origin(kind: str, bucket: str, origin: str) -> dict[str, Any]:
    """A source of the bucket ``origin`` as nats.go translates a KV bucket name: the origin's subjects
    moved into this bucket's, one transform per subject of the origin, so clients of this bucket find
    them under its name (an object store's chunks and metadata: nats-py reads both by the store's name)."""
    return {"name": backing_stream_name(kind, origin),
            "subject_transforms": [{"src": src, "dest": dest}
                                   for src, dest in zip(_subjects(kind, origin), _subjects(kind, bucket), strict=True)]}


def stream_config(kind: str, spec: dict[str, Any], server: Version) -> dict[str, Any]:
    """The backing stream jsctl creates for the bucket ``spec`` on a server of version ``server``."""
    bucket = spec["bucket"]
    ttl = spec.get("ttl") or 0
    config: dict[str, Any] = {
        "name": backing_stream_name(kind, bucket),
        "retention": "limits",
        "discard": "new",
        "allow_rollup_hdrs": True,
        "allow_direct": spec.get("allow_direct", True),
        "max_age": ttl,
        "max_bytes": spec.get("max_bytes") or -1,
        "max_msgs": -1,
        "max_consumers": -1,
        "storage": spec.get("storage", "file"),
        "num_replicas": spec.get("replicas") or 1,
        "compression": "s2" if spec.get("compression") in (True, "s2") else "none",
    }
    for field in ("description", "placement", "metadata"):
        if spec.get(field):
            config[field] = spec[field]
    _add_origins(config, kind, spec)
    if kind == OBJ:
        config["max_msgs_per_subject"] = -1
        return config
    # The clients always send the window: 2.14+ give a stream with sources none by default.
    config.update(deny_delete=True, max_msgs_per_subject=spec.get("history") or 1,
                  max_msg_size=spec.get("max_value_size") or -1,
                  duplicate_window=min(ttl, DEFAULT_DUPLICATE_WINDOW) if ttl else DEFAULT_DUPLICATE_WINDOW)
    if spec.get("republish"):
        config["republish"] = spec["republish"]
    if spec.get("limit_marker_ttl") and server >= TTL_FIELDS_SINCE:  # older servers: a plan error (capabilities)
        config.update(allow_msg_ttl=True, subject_delete_marker_ttl=spec["limit_marker_ttl"])
    return config


def _add_origins(config: dict[str, Any], kind: str, spec: dict[str, Any]) -> None:
    """The bucket's mirror (no subjects of its own) or its subjects, and its sources. A KV mirror keeps
    its origin's subjects, as nats.go makes it (clients read it by its origin's name: ADR-57); object
    stores have no mirror (bucket_checks.py: nats-py cannot read one)."""
    bucket = spec["bucket"]
    if spec.get("mirror"):
        config.update(mirror={"name": backing_stream_name(kind, spec["mirror"])}, mirror_direct=True)
    else:
        config["subjects"] = _subjects(kind, bucket)
    if spec.get("sources"):
        config["sources"] = [_origin(kind, bucket, origin) for origin in spec["sources"]]


def stream_differences(kind: str, spec: dict[str, Any], live: dict[str, Any], server: Version) -> list[FieldChange]:
    """How the live backing stream ``live`` differs from the one the bucket ``spec`` declares, as stream
    field changes (before: live, after: declared), normalized as for streams (server defaults, zero values,
    ``_nats.*`` metadata and jsctl's ownership marks) and without :data:`CLIENT_VARIANCES` the spec leaves open."""
    declared = normalize(STREAM, stream_config(kind, spec, server), server)
    found = normalize(STREAM, live, server)
    for config in (declared, found):
        for field in left_open(spec):
            config.pop(field, None)
    return field_changes(found, declared)


def left_open(spec: dict[str, Any]) -> set[str]:
    """The :data:`CLIENT_VARIANCES` the bucket ``spec`` leaves open: a live bucket may hold any value there."""
    return {"mirror_direct"} | ({"allow_direct"} if "allow_direct" not in spec else set()) | \
        ({"allow_msg_ttl"} if not spec.get("limit_marker_ttl") else set())


def same_bucket(kind: str, spec: dict[str, Any], live: dict[str, Any], server: Version) -> bool:
    """Whether the live backing stream ``live`` is the bucket ``spec`` declares (see :func:`stream_differences`)."""
    return not stream_differences(kind, spec, live, server)


def bucket_field(stream_field: str) -> str:
    """The bucket field a manifest writes for a backing stream's field path (``max_age`` -> ``ttl``,
    ``placement.cluster`` -> ``placement.cluster``), or the stream's own path for a field fixed by the
    bucket kind (``discard``)."""
    top, dot, rest = stream_field.partition(".")
    return _BUCKET_FIELDS.get(top, top) + dot + rest


def backing_kind(stream_name: str) -> tuple[str, str] | None:
    """(kind, bucket) when ``stream_name`` is named as a bucket's backing stream, else None."""
    for kind, prefix in PREFIXES.items():
        bucket = stream_name[len(prefix):]
        if stream_name.startswith(prefix) and bucket_name_problem(bucket) is None:
            return kind, bucket
    return None


def bucket_of(config: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """A live stream config read back as (kind, bucket, spec), or None when it is no bucket's backing
    stream, or one no manifest can declare (a custom source transform, a cross-account mirror, a KV
    bucket with ``discard: old`` made by a pre-2.7.2 client...): those stay plain streams. The spec
    leaves out :data:`CLIENT_VARIANCES` and every field at its default."""
    named = backing_kind(config.get("name", ""))
    if named is None:
        return None
    kind, bucket = named
    if kind == KV and not 1 <= (config.get("max_msgs_per_subject") or 0) <= MAX_HISTORY:
        return None  # under 1: nats.go's test of a KV bucket (ErrBadBucket); over 64: no client makes it
    spec = _read_spec(kind, bucket, config)
    if spec is None or not same_bucket(kind, spec, config, _READ_BACK_VERSION):
        return None
    return kind, bucket, spec


def _read_spec(kind: str, bucket: str, config: dict[str, Any]) -> dict[str, Any] | None:
    """The bucket settings of ``config`` (None when its mirror or sources are not buckets' by name)."""
    spec: dict[str, Any] = {"bucket": bucket}
    if config.get("description"):
        spec["description"] = config["description"]
    if kind == KV and config.get("max_msgs_per_subject", 1) != 1:
        spec["history"] = config["max_msgs_per_subject"]
    for stream_field, field in (("max_age", "ttl"), ("max_msg_size", "max_value_size"), ("max_bytes", "max_bytes"),
                                ("subject_delete_marker_ttl", "limit_marker_ttl")):
        if (config.get(stream_field) or 0) > 0 and (kind == KV or field in ("ttl", "max_bytes")):
            spec[field] = config[stream_field]
    if config.get("storage", "file") != "file":
        spec["storage"] = config["storage"]
    if (config.get("num_replicas") or 1) != 1:
        spec["replicas"] = config["num_replicas"]
    if config.get("compression", "none") != "none":
        spec["compression"] = config["compression"]
    placement = {key: value for key, value in (config.get("placement") or {}).items() if value}
    if placement:
        spec["placement"] = placement
    if kind == KV and config.get("republish"):
        spec["republish"] = config["republish"]
    metadata = user_metadata(config.get("metadata"))
    if metadata:
        spec["metadata"] = metadata
    mirror = config.get("mirror")
    if mirror:
        origin = _bucket_name(KV, mirror.get("name", ""))  # an object store mirror: no bucket (_add_origins)
        if origin is None:
            return None
        spec["mirror"] = origin
    if config.get("sources"):
        origins = [_bucket_name(kind, source.get("name", "")) for source in config["sources"]]
        if None in origins or len(set(origins)) < len(origins):  # a manifest names each source bucket once
            return None
        spec["sources"] = origins  # the transforms are checked by the round trip in bucket_of
    return spec


def _bucket_name(kind: str, stream_name: str) -> str | None:
    """The bucket of ``kind`` whose backing stream is ``stream_name``, or None."""
    named = backing_kind(stream_name)
    return named[1] if named and named[0] == kind else None
