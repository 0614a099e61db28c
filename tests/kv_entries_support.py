"""Helpers of the KV entries tests (tests/jetstream, tests/matrix): jsctl's entries path without the CLI."""

from __future__ import annotations

import asyncio

import nats

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.entries import EntryWriter, observe_entries, plan_entries, verify_entries
from reconciler.jetstream.execute import execute
from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.settings import NatsSettings
from reconciler.jetstream.verify import written_entries
from reconciler.manifest.model import DeclaredEntry, Desired

OURS, THEIRS = Ownership("payments"), Ownership("search")


def entries(bucket: str, mapping: dict[str, str]) -> dict[tuple[str, str], DeclaredEntry]:
    return {(bucket, key): DeclaredEntry(bucket, key, value.encode()) for key, value in mapping.items()}


async def plan_and_apply(api: JetStreamApi, declared: dict, ownership: Ownership = OURS, *, prune: bool = False):
    """What `jsctl apply` does for entries: read, plan, write, read back; the changes it made."""
    changes = await planned(api, declared, ownership, prune=prune)
    values = {e.address: e.value for e in declared.values()}
    steps = await execute(api, changes, entries=EntryWriter(values, ownership))
    await verify_entries(api, written_entries(Desired(entries=declared), steps))
    return changes


async def planned(api: JetStreamApi, declared: dict, ownership: Ownership = OURS, *, prune: bool = False):
    buckets = {bucket for bucket, _ in declared}
    streams = {f"KV_{bucket}": {} for bucket in buckets}
    live = await observe_entries(api, Desired(key_value=dict.fromkeys(buckets), entries=declared), streams, prune=prune)
    return plan_entries(declared, live, ownership, prune=prune).changes


def run(url: str, body, *, prefix: str = "$JS.API", client_url: str | None = None):
    """``body(jsctl's api, a nats-py JetStream context)``; the nats-py client connects to ``client_url``."""
    async def main():
        api = JetStreamApi(await connect_nats(NatsSettings(url=url)), prefix=prefix)
        nc = await nats.connect(servers=(client_url or url).split(","))
        try:
            return await body(api, nc.jetstream())
        finally:
            await nc.close()
            await api.nc.close()

    return asyncio.run(main())
