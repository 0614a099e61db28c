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


@dataclass
class DeclaredResource:
    kind: str  # STREAM or CONSUMER
    name: str
    config: dict[str, Any]
    origin: str = ""  # "file:line:column" of the item, for messages
    stream: str | None = None  # the stream a consumer belongs to

    @property
    def address(self) -> Address:
        return plan_address.STREAM.address(self.name) if self.kind == STREAM else \
            plan_address.CONSUMER.address(self.stream or "", self.name)


@dataclass
class Desired:
    streams: dict[str, DeclaredResource] = field(default_factory=dict)
    consumers: dict[tuple[str, str], DeclaredResource] = field(default_factory=dict)  # (stream, name)
    files: list[str] = field(default_factory=list)  # the manifest files read, for digests
