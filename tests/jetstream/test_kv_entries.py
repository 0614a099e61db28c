"""KV entries (jetstream/entries.py) against a real nats-server: read, plan, write by compare-and-set,
prune of jsctl's own keys only, writes through a JetStream domain's API prefix; nats-py reads what
jsctl wrote."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.errors import KeyNotFoundError

from reconciler.dev.servers import NatsServer, free_ports
from reconciler.errors import JsctlError
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.entries import (
    EntryWriter,
    observe_entries,
    plan_entries,
    verify_entries,
)
from reconciler.jetstream.execute import ApplyFailed, execute
from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.settings import NatsSettings
from reconciler.jetstream.verify import written_entries
from reconciler.manifest.model import DeclaredEntry, Desired
from reconciler.plan.model import Action

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
    return plan_entries(declared, live, ownership, prune=prune)


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
        declared = entries("CONFIG", {"feature.checkout": "on", "a/b.c": "x", "n": "5"})
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
            await execute(api, changes, entries=EntryWriter({e.address: e.value for e in declared.values()}, OURS))
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
    """From a leaf node with JetStream domain leaf, entries declared for domain hub land in the hub's
    bucket, not in the leaf's bucket of the same name (a bare $KV. publish would: research §3)."""
    [port] = free_ports(1)
    hub, leaf = NatsServer(tmp_path / "hub"), NatsServer(tmp_path / "leaf")
    hub.config = (f'jetstream {{ store_dir: "{hub.store_dir}", domain: hub }}\n'
                  f'leafnodes {{ listen: "127.0.0.1:{port}" }}\n')
    leaf.config = (f'jetstream {{ store_dir: "{leaf.store_dir}", domain: leaf }}\n'
                   f'leafnodes {{ remotes: [{{ url: "nats-leaf://127.0.0.1:{port}" }}] }}\n')
    hub.start()
    try:
        leaf.start()
        try:
            async def body(api, js):
                await wait_for_hub(api)
                hub_kv = await js.create_key_value(bucket="CONFIG")
                leaf_nc = await nats.connect(leaf.url)
                leaf_kv = await leaf_nc.jetstream().create_key_value(bucket="CONFIG")
                declared = entries("CONFIG", {"k": "v", "a/b": "w"})
                await plan_and_apply(api, declared)
                assert [(await hub_kv.get(k)).value for k in ("k", "a/b")] == [b"v", b"w"]
                with pytest.raises(KeyNotFoundError):
                    await leaf_kv.get("k")
                await leaf_nc.close()
                assert await planned(api, declared) == []

            run(leaf.url, body, prefix="$JS.hub.API", client_url=hub.url)
        finally:
            leaf.stop()
    finally:
        hub.stop()


async def wait_for_hub(api: JetStreamApi, within_s: float = 20) -> None:
    """Until the leaf node's link is up: the hub's JetStream answers through it."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        try:
            await api.request("INFO", timeout=0.5)
            return
        except JsctlError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)
