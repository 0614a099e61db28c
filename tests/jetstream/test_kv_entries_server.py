"""KV entries against real servers beyond the version matrix: writes through a JetStream domain's API prefix
from a leaf node (hub and leaf servers); verify after apply reading the keys back."""

from __future__ import annotations

import asyncio

import nats
import pytest
from kv_entries_support import entries, plan_and_apply, planned, run
from nats.js.errors import KeyNotFoundError

from reconciler.dev.servers import NatsServer, free_ports
from reconciler.errors import JsctlError
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.entries import EntriesNotKept, verify_entries
from reconciler.plan.address import KV_ENTRY


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


def test_verify_names_a_key_that_does_not_hold_its_declared_value(js_account):
    async def body(api, js):
        kv = await js.create_key_value(bucket="CONFIG")
        await kv.put("kept", b"on")
        declared = entries("CONFIG", {"kept": "on", "moved": "on"})
        written = {e.address: e for e in declared.values()} | {KV_ENTRY.address("CONFIG", "gone"): None}
        await kv.put("moved", b"on")
        await verify_entries(api, written)  # declared values kept, the pruned key has none
        await kv.put("moved", b"someone else's")
        await kv.put("gone", b"back")
        with pytest.raises(EntriesNotKept) as failed:
            await verify_entries(api, written)
        assert str(failed.value) == ("verify after apply: kv/CONFIG/moved holds another value; kv/CONFIG/gone still "
                                     "has a value (someone wrote it since: run `jsctl plan`)")

    run(js_account, body)
