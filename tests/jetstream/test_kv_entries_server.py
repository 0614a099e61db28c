"""KV entries against real servers beyond the version matrix: writes through a JetStream domain's API prefix
(hub and leaf-node servers, with the API and through `jsctl --js-domain`); verify after apply reading the keys
back."""

from __future__ import annotations

import asyncio

import nats
import pytest
import yaml
from kv_entries_support import entries, plan_and_apply, planned, run
from leafnodes import start_hub_and_leaf
from nats.js.errors import KeyNotFoundError

from reconciler.jetstream.entries import EntriesNotKept, verify_entries
from reconciler.plan.address import KV_ENTRY


def test_writes_go_through_the_domains_api_prefix(tmp_path):
    """From a leaf node with JetStream domain leaf, entries declared for domain hub land in the hub's
    bucket, not in the leaf's bucket of the same name (a bare $KV. publish would: research §3)."""
    pair = start_hub_and_leaf(tmp_path / "servers")
    try:
        async def body(api, js):
            hub_kv = await js.create_key_value(bucket="CONFIG")
            leaf_nc = await nats.connect(pair.leaf.url)
            try:
                leaf_kv = await leaf_nc.jetstream().create_key_value(bucket="CONFIG")
                declared = entries("CONFIG", {"k": "v", "a/b": "w"})
                await plan_and_apply(api, declared)
                assert [(await hub_kv.get(k)).value for k in ("k", "a/b")] == [b"v", b"w"]
                with pytest.raises(KeyNotFoundError):
                    await leaf_kv.get("k")
                assert await planned(api, declared) == []
            finally:
                await leaf_nc.close()

        run(pair.leaf.url, body, prefix="$JS.hub.API", client_url=pair.hub.url)
    finally:
        pair.stop()


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


def test_jsctl_with_js_domain_writes_the_entries_in_that_domain(jsctl, tmp_path):
    """jsctl on the hub applies a bucket and its entries in the leaf node's domain (--js-domain leaf): the
    keys land in the leaf's bucket, none on the hub."""
    pair = start_hub_and_leaf(tmp_path / "servers")
    try:
        (tmp_path / "buckets.yaml").write_text(yaml.safe_dump(
            {"key_value": [{"bucket": "CONFIG", "entries": {"a/b.c": "on", "k": "v"}}]}))
        env = {"NATS_URL": pair.hub.url, "JSCTL_OWNER": "app"}
        files = ["-f", str(tmp_path / "buckets.yaml"), "--js-domain", "leaf"]
        done = jsctl("apply", *files, "--yes", env=env)
        assert done.returncode == 0, done.stderr
        assert jsctl("plan", *files, "--detailed-exitcode", env=env).returncode == 0

        async def read():
            leaf = await nats.connect(pair.leaf.url)
            hub = await nats.connect(pair.hub.url)
            try:
                kv = await leaf.jetstream().key_value("CONFIG")
                names = await hub.jetstream().streams_info()
                return [(await kv.get(k)).value for k in ("a/b.c", "k")], [s.config.name for s in names]
            finally:
                await leaf.close()
                await hub.close()

        values, hub_streams = asyncio.run(read())
        assert values == [b"on", b"v"] and "KV_CONFIG" not in hub_streams
    finally:
        pair.stop()
