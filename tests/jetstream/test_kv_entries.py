"""KV entries (jetstream/entries.py) against a real nats-server: read, plan, write by compare-and-set,
prune of jsctl's own keys only, writes through a JetStream domain's API prefix; nats-py reads what
jsctl wrote."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.js.errors import KeyNotFoundError

from reconciler.dev.servers import NatsServer
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.entries import (
    EntryWriter,
    bucket_keys,
    declared_entry,
    plan_entries,
    read_entries,
    verify_entries,
)
from reconciler.jetstream.execute import ApplyFailed, execute
from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.settings import NatsSettings
from reconciler.plan.model import Action

OURS, THEIRS = Ownership("payments"), Ownership("search")


def entries(bucket: str, mapping: dict) -> list:
    found = [declared_entry(bucket, key, raw, Path("m.yaml")) for key, raw in
             mapping.items()]
    assert all(not problems for _, problems in found), found
    return [entry for entry, _ in found]


async def plan_and_apply(api: JetStreamApi, declared: list, ownership: Ownership = OURS, *, prune: bool = False):
    """What `jsctl apply` does for entries: read, plan, write, read back; the changes it made."""
    changes = await planned(api, declared, ownership, prune=prune)
    values = {e.address: e.value for e in declared}
    steps = await execute(api, changes, entries=EntryWriter(values, ownership))
    await verify_entries(api, {s.address: next((e for e in declared if e.address == s.address), None) for s in steps})
    return changes


async def planned(api: JetStreamApi, declared: list, ownership: Ownership = OURS, *, prune: bool = False):
    live = await read_entries(api, [(e.bucket, e.key) for e in declared])
    undeclared = None
    if prune:
        buckets = {e.bucket for e in declared}
        keys = [(b, k) for b in buckets for k in await bucket_keys(api, b)]
        undeclared = await read_entries(api, [k for k in keys if k not in live])
    return plan_entries(declared, live, ownership, undeclared=undeclared)


def run(url: str, body, *, prefix: str = "$JS.API", client_url: str | None = None):
    """``body(jsctl's api, a nats-py JetStream context)``; the nats-py client connects to ``client_url``."""
    async def main():
        api = JetStreamApi(await connect_nats(NatsSettings(url=url)), prefix=prefix)
        nc = await nats.connect(client_url or url)
        try:
            return await body(api, nc.jetstream())
        finally:
            await nc.close()
            await api.nc.close()

    return asyncio.run(main())


def test_create_then_nothing_then_a_hand_change_is_updated_back(js_account):
    async def body(api, js):
        kv = await js.create_key_value(bucket="CONFIG")  # nats-py: allow_direct false, STREAM.MSG.GET still answers
        declared = entries("CONFIG", {"feature.checkout": "on", "a/b.c": "x", "n": 5})
        first = await plan_and_apply(api, declared)
        assert [(str(c.address), c.action, c.desired) for c in first] == [
            ("kv/CONFIG/a/b.c", Action.CREATE, {"revision": 0}),
            ("kv/CONFIG/feature.checkout", Action.CREATE, {"revision": 0}),
            ("kv/CONFIG/n", Action.CREATE, {"revision": 0})]
        assert [(await kv.get(k)).value for k in ("feature.checkout", "a/b.c", "n")] == [b"on", b"x", b"5"]
        assert await planned(api, declared) == []
        revision = await kv.put("feature.checkout", b"off")  # by hand
        [update] = await planned(api, declared)
        assert (update.action, update.desired, update.diff[0].before, update.diff[0].after) == \
            (Action.UPDATE, {"revision": revision}, "off", "on")
        assert "changed outside jsctl" in update.reason
        await plan_and_apply(api, declared)
        assert (await kv.get("feature.checkout")).value == b"on"
        await kv.delete("n")  # a deleted key is created again, expecting the delete marker's revision
        [create] = await planned(api, declared)
        assert create.action == Action.CREATE and create.desired["revision"] > revision
        await plan_and_apply(api, declared)
        assert await planned(api, declared) == []

    run(js_account, body)


def test_a_write_between_plan_and_apply_fails_clearly_and_is_kept(js_account):
    async def body(api, js):
        kv = await js.create_key_value(bucket="CONFIG")
        await kv.put("mode", b"old")
        declared = entries("CONFIG", {"mode": "declared", "other": "x"})
        changes = await planned(api, declared)
        concurrent = await kv.put("mode", b"theirs")
        with pytest.raises(ApplyFailed) as failed:
            await execute(api, changes, entries=EntryWriter({e.address: e.value for e in declared}, OURS))
        message = str(failed.value)
        assert "update kv/CONFIG/mode: key mode of bucket CONFIG changed since the plan" in message
        assert f"expected revision 1, the key is at revision {concurrent}" in message
        assert "did not overwrite it: run `jsctl plan`" in message
        assert (await kv.get("mode")).value == b"theirs"

    run(js_account, body)


def test_prune_deletes_only_keys_this_project_wrote_last(js_account):
    async def body(api, js):
        kv = await js.create_key_value(bucket="CONFIG")
        await plan_and_apply(api, entries("CONFIG", {"ours": "1", "ours.too": "2"}))
        await plan_and_apply(api, entries("CONFIG", {"theirs": "3"}), THEIRS)
        await kv.put("by.hand", b"4")
        await plan_and_apply(api, entries("CONFIG", {"retaken": "5"}))
        await kv.put("retaken", b"6")  # last written by hand now: not jsctl's any more
        declared = entries("CONFIG", {"ours": "1"})
        changes = await plan_and_apply(api, declared, prune=True)
        assert [(str(c.address), c.action, c.diff[0].before, c.details.sensitive) for c in changes] == [
            ("kv/CONFIG/ours.too", Action.DELETE, None, True)]
        assert {k: (await kv.get(k)).value for k in ("ours", "theirs", "by.hand", "retaken")} == {
            "ours": b"1", "theirs": b"3", "by.hand": b"4", "retaken": b"6"}
        with pytest.raises(KeyNotFoundError):  # deleted as nats-py deletes: a DEL marker
            await kv.get("ours.too")
        assert await planned(api, declared, prune=True) == []

    run(js_account, body)


def test_writes_go_through_the_domains_api_prefix(tmp_path):
    """A user who may publish only under the hub domain's API prefix still writes the keys: jsctl never
    sends a bare $KV. publish (which, on a leaf node, would land in the leaf's bucket)."""
    server = NatsServer(tmp_path / "server")
    only_prefixed = '{publish: {allow: ["$JS.hub.API.>", "_INBOX.>"]}}'
    server.config = (f'jetstream {{ store_dir: "{server.store_dir}", domain: hub }}\n'
                     'accounts { APP { jetstream: enabled, users: ['
                     f'{{user: jsctl, password: pw, permissions: {only_prefixed}}}, {{user: admin, password: pw}}] }} }}\n')
    server.start()
    try:
        async def body(api, js):
            kv = await js.create_key_value(bucket="CONFIG")
            declared = entries("CONFIG", {"k": "v", "a/b": "w"})
            await plan_and_apply(api, declared)
            assert [(await kv.get(k)).value for k in ("k", "a/b")] == [b"v", b"w"]
            assert await planned(api, declared) == []

        url = server.url.replace("nats://", "nats://{}:pw@")
        run(url.format("jsctl"), body, prefix="$JS.hub.API", client_url=url.format("admin"))
    finally:
        server.stop()
