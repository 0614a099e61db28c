"""Read the live JetStream account as raw JSON: paged STREAM.LIST, then CONSUMER.LIST per stream.

Consumers are listed concurrently (bounded), and only for streams whose state says they have any,
so a large account costs a handful of round trips more than the paged listing itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..memory import long_lived_allocations
from .capabilities import Version, parse_version
from .client import JetStreamApi, ServerIdentity
from .defaults import local_origin
from .lock import is_jsctl_internal

CONCURRENCY = 64  # in-flight requests; the server answers API requests from a bounded queue


@dataclass
class Live:
    identity: ServerIdentity
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> STREAM.LIST item (config, state)
    consumers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (stream, name) -> item
    # Listed by the server but unreadable (their nodes are down, or a newer server made them), with
    # the server's reason if it gave one: never taken for absent.
    offline_streams: dict[str, str] = field(default_factory=dict)
    offline_consumers: dict[tuple[str, str], str] = field(default_factory=dict)
    # (bucket, key) -> entries.LiveEntry: the declared keys of KV buckets, read for a plan (entries.py)
    entries: dict[tuple[str, str], Any] = field(default_factory=dict)

    def offline_reason(self, stream: str, consumer: str | None = None) -> str | None:
        """Why the stream, or (with ``consumer``) the consumer or its stream, is listed but unreadable;
        None when it is not."""
        if stream in self.offline_streams:
            return self.offline_streams[stream]
        return self.offline_consumers.get((stream, consumer)) if consumer else None

    @property
    def version(self) -> Version:
        return parse_version(self.identity.version)


async def bounded(coroutines: Iterable, limit: int = CONCURRENCY) -> list:
    """Run coroutines with at most ``limit`` in flight; results in order; the first error is raised."""
    semaphore = asyncio.Semaphore(limit)

    async def one(coro):
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coroutines))


async def observe(api: JetStreamApi, streams: Iterable[str] | None = None) -> Live:
    """The live account (or only the named streams, the origins of the mirrors among them, and their consumers)."""
    with long_lived_allocations():
        return await _observe(api, streams)


async def _observe(api: JetStreamApi, streams: Iterable[str] | None) -> Live:
    identity = await api.identity()
    live = Live(identity)
    offline: dict[str, str] = {}
    listed = {item["config"]["name"]: item for item in await api.paged("STREAM.LIST", "streams", unreadable=offline)}
    wanted = set(streams) if streams is not None else None
    if wanted is not None:  # a mirror's defaults depend on its origin (mirror_direct): read it too
        wanted |= {local_origin(listed[n]["config"].get("mirror")) for n in wanted if n in listed}
    for name, item in listed.items():
        if is_jsctl_internal(name):
            continue  # jsctl's own (the apply lock): never planned, never unmanaged
        if wanted is None or name in wanted:
            live.streams[name] = item
    live.offline_streams = {n: why for n, why in offline.items()
                            if (wanted is None or n in wanted) and not is_jsctl_internal(n)}
    with_consumers = [n for n, item in live.streams.items() if (item.get("state") or {}).get("consumer_count", 1)]
    offline_consumers: dict[str, dict[str, str]] = {name: {} for name in with_consumers}
    pages = await bounded(api.paged(f"CONSUMER.LIST.{name}", "consumers", unreadable=offline_consumers[name])
                          for name in with_consumers)
    for stream, items in zip(with_consumers, pages, strict=True):
        for item in items:
            live.consumers[(stream, item["name"])] = item
        live.offline_consumers.update({(stream, name): why for name, why in offline_consumers[stream].items()})
    return live
