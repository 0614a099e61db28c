"""KV entries (jetstream/entries.py) on every supported nats-server: read, plan, write by compare-and-set
(a concurrent write fails the apply and is kept), deleted keys created again, prune of jsctl's own keys
only; nats-py reads what jsctl wrote."""

from __future__ import annotations

import pytest
from kv_entries_support import OURS, THEIRS, entries, plan_and_apply, planned, run
from nats.js.errors import KeyNotFoundError

from reconciler.jetstream.entries import EntryWriter
from reconciler.jetstream.execute import ApplyFailed, execute
from reconciler.plan.model import Action


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
        await kv.purge("n")  # a purged key too: its PURGE marker stays, and is the revision to expect
        [create] = await planned(api, declared)
        assert create.action == Action.CREATE and create.desired["revision"] > revision
        await plan_and_apply(api, declared)
        assert (await kv.get("n")).value == b"5" and await planned(api, declared) == []

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
