"""What the manifests declare, after loading and validation: the input of planning.

Configs use the JetStream API's JSON field names with durations as integer nanoseconds and sizes
as integer bytes, holding only the fields the user wrote (defaults are filled in later, per server
version, by normalization).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..plan import address as plan_address
from ..plan.address import Address

STREAM, CONSUMER = "stream", "consumer"
KV, OBJ = "kv", "objectstore"  # a key-value bucket, an object store: each is one backing stream
# A bucket field -> the field of its backing stream that holds it, where the names differ
# (ADR-8, ADR-20; jetstream/buckets.py maps the rest).
BUCKET_STREAM_FIELDS = {"history": "max_msgs_per_subject", "ttl": "max_age", "max_value_size": "max_msg_size",
                        "replicas": "num_replicas", "limit_marker_ttl": "subject_delete_marker_ttl"}
CONSUMER_LIMITS = ("max_ack_pending", "inactive_threshold")  # a stream's consumer_limits: defaults for its consumers


@dataclass
class DeclaredResource:
    kind: str  # STREAM, CONSUMER, KV or OBJ
    name: str  # a bucket's name for KV and OBJ
    config: dict[str, Any]
    origin: str = ""  # "file:line:column" of the item, for messages
    stream: str | None = None  # the stream a consumer belongs to
    shown_as: Address | None = None  # a bucket's backing stream is shown at the bucket's address (kv/NAME)

    @property
    def address(self) -> Address:
        if self.shown_as is not None:
            return self.shown_as
        return resource_address(self.kind, self.name, self.stream)


@dataclass(frozen=True)
class DeclaredEntry:
    """A key of a KV bucket with the value jsctl keeps it at (``entries:`` of a bucket, bucket_checks.py)."""

    bucket: str
    key: str
    value: bytes = field(repr=False)
    sensitive: bool = False  # never shown: plans, saved plans, errors
    origin: str = ""  # "file:line:column", for messages

    @property
    def address(self) -> Address:
        return plan_address.KV_ENTRY.address(self.bucket, self.key)


@dataclass
class Desired:
    streams: dict[str, DeclaredResource] = field(default_factory=dict)
    consumers: dict[tuple[str, str], DeclaredResource] = field(default_factory=dict)  # (stream, name)
    key_value: dict[str, DeclaredResource] = field(default_factory=dict)  # bucket -> its spec (buckets.py)
    object_stores: dict[str, DeclaredResource] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # the manifest files read (and value_file's), for digests
    hints: list[str] = field(default_factory=list)  # "file:line:col: path: hint: ..." advice, no error
    entries: dict[tuple[str, str], DeclaredEntry] = field(default_factory=dict)  # (bucket, key): KV keys


def resource_address(kind: str, name: str, stream: str | None = None) -> Address:
    """The plan address of a declared resource: ``stream/NAME``, ``consumer/STREAM/NAME`` (a consumer's
    holds its stream's name before its own), ``kv/NAME``."""
    parents = (stream or "",) if kind == CONSUMER else ()
    return plan_address.KINDS[kind].address(*parents, name)


def inherited_limits(config: dict[str, Any], stream: dict[str, Any] | None) -> dict[str, Any]:
    """The fields a consumer ``config`` takes from its ``stream``'s consumer_limits: those it leaves at 0,
    whatever its ack policy (every server version's setConsumerConfigDefaults). Normalization fills them
    in (jetstream/defaults.py); validation refuses a push consumer without acks that would take a
    max_ack_pending (manifest/checks.py)."""
    limits = (stream or {}).get("consumer_limits") or {}
    return {name: limits[name] for name in CONSUMER_LIMITS if not config.get(name) and limits.get(name)}
