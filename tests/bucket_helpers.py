"""Buckets in tests: declared as the manifest loader returns them, planned and applied as `jsctl plan` /
`jsctl apply` do it, and used through nats-py as client applications do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats

from reconciler.jetstream.buckets import stream_config
from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.session import JetStreamSession
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest.model import KV, STREAM, DeclaredResource, Desired
from reconciler.plan.model import Plan

PROJECT = Ownership("app")
WAIT_S = 10.0


def buckets(*items: tuple[str, dict]) -> Desired:
    """A Desired declaring ``(kind, spec)`` buckets."""
    desired = Desired()
    for kind, spec in items:
        section = desired.key_value if kind == KV else desired.object_stores
        section[spec["bucket"]] = DeclaredResource(kind, spec["bucket"], dict(spec))
    return desired


def raw_streams(*items: tuple[str, dict]) -> Desired:
    """A Desired declaring ``(kind, spec)`` buckets as their raw backing streams (``streams:`` with KV_NAME)."""
    desired = Desired()
    for kind, spec in items:
        config = stream_config(kind, spec, (2, 12, 0))
        desired.streams[config["name"]] = DeclaredResource(STREAM, config["name"], config)
    return desired


def plan(url: str, desired: Desired, *, prune: bool = False, apply: bool = False) -> Plan:
    """As `jsctl plan` (and `jsctl apply` with ``apply``, verify included) does it, as project ``app``."""
    async def run() -> Plan:
        async with JetStreamSession(NatsSettings(url=url)) as session:
            made = await session.plan(desired, prune=prune, ownership=PROJECT)
            if apply:
                assert not made.errors, made.errors
                await session.apply(desired, made.pending, prune=prune, ownership=PROJECT)
            return made

    return asyncio.run(run())


def on_nats(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(js)`` with a nats-py JetStream context (on every node of a cluster's URL)."""
    async def run() -> Any:
        nc = await nats.connect(servers=url.split(","))
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(run())


async def until(check: Callable[[], Awaitable[bool]]) -> bool:
    """Whether ``check`` comes true within WAIT_S (polled: the server copies sources in the background)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False
