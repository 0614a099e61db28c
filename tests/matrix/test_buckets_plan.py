"""Buckets planned and applied on every supported nats-server version (tests/matrix/conftest.py): a
bucket nats-py made is adopted with no field change; every bucket setting the server changes in place
plans as an update that applies and verifies, keeping the keys, on every version (never a replace);
storage is a destructive replace; limit_marker_ttl needs 2.11 (issue #13)."""

from __future__ import annotations

from bucket_helpers import buckets, on_nats, plan, raw_streams

from reconciler.jetstream.capabilities import parse_version
from reconciler.manifest.model import KV, OBJ, Desired
from reconciler.plan.model import Action

S = 1_000_000_000
KV_SPEC = {"bucket": "CONFIG", "description": "feature flags", "history": 5, "ttl": 3600 * S,
           "max_value_size": 1024, "max_bytes": 1 << 20}
OBJ_SPEC = {"bucket": "FILES", "description": "build outputs", "ttl": 3600 * S, "max_bytes": 10 << 20}
# Every change a server takes in place, at once (ttl below the 2m duplicate window: the window follows).
KV_CHANGED = {**KV_SPEC, "description": "flags", "history": 2, "ttl": 30 * S, "max_value_size": 2048,
              "max_bytes": 2 << 20, "compression": True, "metadata": {"team": "checkout"},
              "republish": {"src": "$KV.CONFIG.>", "dest": "repub.config.>"}}
OBJ_CHANGED = {**OBJ_SPEC, "description": "artifacts", "ttl": 60 * S, "max_bytes": 20 << 20, "compression": True,
               "metadata": {"team": "ci"}}


def declared(kv: dict | None = None, obj: dict | None = None) -> Desired:
    return buckets(*([(KV, kv)] if kv else []), *([(OBJ, obj)] if obj else []))


def summary(made) -> dict[str, str]:
    return {str(c.address): str(c.action) for c in made.changes}


async def nats_py_buckets(js) -> None:
    kv = await js.create_key_value(bucket="CONFIG", description="feature flags", history=5, ttl=3600,
                                   max_value_size=1024, max_bytes=1 << 20)
    await kv.put("k", b"v")
    store = await js.create_object_store("FILES", description="build outputs", ttl=3600, max_bytes=10 << 20)
    await store.put("o", b"x" * 100)


def test_nats_py_buckets_are_adopted_then_change_in_place_keeping_their_data(js_account):
    on_nats(js_account, nats_py_buckets)
    adopted = plan(js_account, declared(KV_SPEC, OBJ_SPEC), apply=True)
    assert summary(adopted) == {"kv/CONFIG": "adopt", "objectstore/FILES": "adopt"}
    assert not any(c.diff for c in adopted.changes)

    changed = declared(KV_CHANGED, OBJ_CHANGED)
    updated = plan(js_account, changed, apply=True)  # verify inside: the server kept every field as sent
    assert summary(updated) == {"kv/CONFIG": "update", "objectstore/FILES": "update"}
    assert not any(c.destructive for c in updated.changes)
    assert not plan(js_account, changed).changes

    async def read(js):
        kv, store = await js.key_value("CONFIG"), await js.object_store("FILES")
        return (await kv.get("k")).value, (await store.get("o")).data

    assert on_nats(js_account, read) == (b"v", b"x" * 100)


def test_a_bucket_moves_between_streams_and_key_value_as_adopts_on_every_version(js_account):
    plan(js_account, raw_streams((KV, KV_SPEC), (OBJ, OBJ_SPEC)), apply=True)
    as_buckets = plan(js_account, declared(KV_SPEC, OBJ_SPEC), apply=True)  # verified: the kind mark was kept
    assert summary(as_buckets) == {"kv/CONFIG": "adopt", "objectstore/FILES": "adopt"}
    back = plan(js_account, raw_streams((KV, KV_SPEC), (OBJ, OBJ_SPEC)), apply=True)  # verified: the server dropped it
    assert summary(back) == {"stream/KV_CONFIG": "adopt", "stream/OBJ_FILES": "adopt"}
    assert not any(c.diff for c in [*as_buckets.changes, *back.changes])
    assert not plan(js_account, raw_streams((KV, KV_SPEC), (OBJ, OBJ_SPEC))).changes


def test_a_storage_change_is_a_destructive_replace_on_every_version(js_account):
    plan(js_account, declared(KV_SPEC, OBJ_SPEC), apply=True)
    moved = plan(js_account, declared({**KV_SPEC, "storage": "memory"}, {**OBJ_SPEC, "storage": "memory"}))
    assert summary(moved) == {"kv/CONFIG": "replace", "objectstore/FILES": "replace"}
    assert all(c.destructive and c.reason == "the storage type cannot be changed" for c in moved.changes)


def test_limit_marker_ttl_is_a_plan_error_before_2_11(js_account, nats_server_version):
    made = plan(js_account, declared({**KV_SPEC, "limit_marker_ttl": 5 * S}))
    if parse_version(nats_server_version) < (2, 11, 0):
        assert made.errors == [f"kv/CONFIG: field limit_marker_ttl needs nats-server 2.11.0 or newer (connected "
                               f"server: {nats_server_version})"]
    else:
        assert not made.errors and summary(made) == {"kv/CONFIG": str(Action.CREATE)}


def test_limit_markers_turn_on_and_off_in_place_from_2_11(js_account, nats_server_version):
    if parse_version(nats_server_version) < (2, 11, 0):
        return  # a plan error there (above)
    plan(js_account, declared(KV_SPEC), apply=True)
    with_markers = declared({**KV_SPEC, "limit_marker_ttl": 5 * S})
    on = plan(js_account, with_markers, apply=True)
    assert summary(on) == {"kv/CONFIG": "update"} and not on.changes[0].destructive
    assert not plan(js_account, with_markers).changes
    # 2.11+ never turn allow_msg_ttl off: the markers stop, the stream keeps it (never a replace)
    off = plan(js_account, declared(KV_SPEC), apply=True)
    [change] = off.changes
    assert (change.action, [d.path for d in change.diff]) == (Action.UPDATE, ["subject_delete_marker_ttl"])
    assert not plan(js_account, declared(KV_SPEC)).changes


def test_a_mirror_bucket_is_promoted_in_place_from_2_12_and_replaced_before(js_account, nats_server_version):
    origin = {"bucket": "EU"}
    plan(js_account, buckets((KV, origin), (KV, {"bucket": "EU_COPY", "mirror": "EU"})), apply=True)
    promoted = buckets((KV, origin), (KV, {"bucket": "EU_COPY"}))
    made = plan(js_account, promoted)
    [change] = made.changes
    if parse_version(nats_server_version) < (2, 12, 0):
        assert (change.action, change.reason) == (Action.REPLACE, "a mirror cannot be promoted to a stream on this "
                                                                  "server")
        assert change.destructive
    else:
        assert change.action == Action.UPDATE and not change.destructive
        plan(js_account, promoted, apply=True)  # verified
        assert not plan(js_account, promoted).changes
