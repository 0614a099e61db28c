"""PROVISIONAL stand-in for kv-model's buckets.py (same interface), to test kv-plan before the merge."""

from __future__ import annotations

from typing import Any

from ..manifest.model import KV, OBJ
from .capabilities import Version

TWO_MINUTES_NS = 120 * 10**9
PREFIX = {KV: "KV_", OBJ: "OBJ_"}


def backing_stream_name(kind: str, bucket: str) -> str:
    return PREFIX[kind] + bucket


def stream_config(kind: str, spec: dict[str, Any], server_version: Version) -> dict[str, Any]:
    bucket = spec.get("bucket") or spec["name"]
    ttl = spec.get("ttl") or 0
    config: dict[str, Any] = {
        "name": backing_stream_name(kind, bucket), "retention": "limits", "max_consumers": -1, "max_msgs": -1,
        "max_age": ttl, "max_bytes": spec.get("max_bytes") or -1, "storage": spec.get("storage") or "file",
        "num_replicas": spec.get("replicas") or 1, "discard": "new", "allow_rollup_hdrs": True,
        "allow_direct": spec.get("allow_direct", True), "duplicate_window": min(TWO_MINUTES_NS, ttl) if ttl else
        TWO_MINUTES_NS, "compression": "s2" if spec.get("compression") else "none"}
    for key in ("description", "metadata", "placement"):
        if spec.get(key):
            config[key] = spec[key]
    if kind == KV:
        config |= {"subjects": [f"$KV.{bucket}.>"], "max_msgs_per_subject": spec.get("history") or 1,
                   "max_msg_size": spec.get("max_value_size") or -1, "deny_delete": True}
        if spec.get("limit_marker_ttl"):
            config |= {"allow_msg_ttl": True, "subject_delete_marker_ttl": spec["limit_marker_ttl"]}
        if spec.get("republish"):
            config["republish"] = spec["republish"]
    else:
        config["subjects"] = [f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"]
    return config


def bucket_of(config: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    name = config.get("name") or ""
    for kind, prefix in PREFIX.items():
        bucket = name[len(prefix):]
        if not name.startswith(prefix) or not bucket:
            continue
        subjects = sorted(config.get("subjects") or [])
        expected = [f"$KV.{bucket}.>"] if kind == KV else [f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"]
        if subjects != expected:
            continue
        spec: dict[str, Any] = {"bucket": bucket}
        pairs = {"max_age": "ttl", "max_bytes": "max_bytes", "storage": "storage", "num_replicas": "replicas",
                 "description": "description", "metadata": "metadata", "placement": "placement"}
        if kind == KV:
            pairs |= {"max_msgs_per_subject": "history", "max_msg_size": "max_value_size",
                      "subject_delete_marker_ttl": "limit_marker_ttl", "republish": "republish"}
        for field, key in pairs.items():
            value = config.get(field)
            if value not in (None, 0, -1, "", {}):
                spec[key] = value
        if config.get("compression") == "s2":
            spec["compression"] = True
        return kind, bucket, spec
    return None
