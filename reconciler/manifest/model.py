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
ADDRESS_KINDS = {STREAM: plan_address.STREAM, CONSUMER: plan_address.CONSUMER}  # kind of item -> of its address
CONSUMER_LIMITS = ("max_ack_pending", "inactive_threshold")  # a stream's consumer_limits: defaults for its consumers


@dataclass
class DeclaredResource:
    kind: str  # STREAM or CONSUMER
    name: str
    config: dict[str, Any]
    origin: str = ""  # "file:line:column" of the item, for messages
    stream: str | None = None  # the stream a consumer belongs to

    @property
    def address(self) -> Address:
        return resource_address(self.kind, self.name, self.stream)


@dataclass
class Desired:
    streams: dict[str, DeclaredResource] = field(default_factory=dict)
    consumers: dict[tuple[str, str], DeclaredResource] = field(default_factory=dict)  # (stream, name)
    files: list[str] = field(default_factory=list)  # the manifest files read, for digests


def resource_address(kind: str, name: str, stream: str | None = None) -> Address:
    """The plan address of a declared resource: ``stream/NAME``, ``consumer/STREAM/NAME`` (a consumer's
    holds its stream's name before its own)."""
    parents = (stream or "",) if kind == CONSUMER else ()
    return ADDRESS_KINDS[kind].address(*parents, name)


def inherited_limits(config: dict[str, Any], stream: dict[str, Any] | None) -> dict[str, Any]:
    """The fields a consumer ``config`` takes from its ``stream``'s consumer_limits: those it leaves at 0,
    whatever its ack policy (every server version's setConsumerConfigDefaults). Normalization fills them
    in (jetstream/defaults.py); validation refuses a push consumer without acks that would take a
    max_ack_pending (manifest/checks.py)."""
    limits = (stream or {}).get("consumer_limits") or {}
    return {name: limits[name] for name in CONSUMER_LIMITS if not config.get(name) and limits.get(name)}
