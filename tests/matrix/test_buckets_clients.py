"""Buckets as the reference client makes them and as jsctl declares them are the same, on every supported
version (tests/matrix/conftest.py): nats-py's KV buckets and object stores read back (bucket_of) as the
settings they were made with and equal jsctl's declaration of them (same_bucket); the backing streams
jsctl creates (stream_config) work with nats-py's KV and object store API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import pytest
from bucket_helpers import buckets, plan, until
from nats.js.api import KeyValueConfig, ObjectStoreConfig, RePublish, StorageType
from nats.js.errors import NotFoundError

from reconciler.jetstream.buckets import KV, OBJ, backing_stream_name, bucket_of, same_bucket, stream_config
from reconciler.jetstream.capabilities import parse_version
from reconciler.jetstream.client import JetStreamApi

S = 1_000_000_000

# (nats-py settings, the same bucket as a jsctl manifest declares it, after unit conversion)
KV_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"bucket": "py_plain"}, {"bucket": "py_plain"}),
    ({"bucket": "py_limits", "history": 5, "ttl": 60, "max_value_size": 1024, "max_bytes": 1 << 20,
      "description": "feature flags"},
     {"bucket": "py_limits", "history": 5, "ttl": 60 * S, "max_value_size": 1024, "max_bytes": 1 << 20,
      "description": "feature flags"}),
    ({"bucket": "py_short", "ttl": 1.5, "history": 64, "storage": StorageType.MEMORY},
     {"bucket": "py_short", "ttl": 1500 * 1_000_000, "history": 64, "storage": "memory"}),
    ({"bucket": "py_republish", "republish": RePublish(src="$KV.py_republish.>", dest="re.py.>")},
     {"bucket": "py_republish", "republish": {"src": "$KV.py_republish.>", "dest": "re.py.>"}}),
    ({"bucket": "py_direct", "direct": True}, {"bucket": "py_direct", "allow_direct": True}),
]
MARKERS_CASE = ({"bucket": "py_markers", "limit_marker_ttl": 5, "history": 2},
                {"bucket": "py_markers", "limit_marker_ttl": 5 * S, "history": 2})
OBJ_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"bucket": "py_store"}, {"bucket": "py_store"}),
    ({"bucket": "py_store_limits", "description": "build outputs", "ttl": 3600, "max_bytes": 10 << 20,
      "storage": StorageType.MEMORY},
     {"bucket": "py_store_limits", "description": "build outputs", "ttl": 3600 * S, "max_bytes": 10 << 20,
      "storage": "memory"}),
]


def run(url: str, work: Callable[[Any, JetStreamApi], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        nc = await nats.connect(url)
        try:
            return await work(nc.jetstream(), JetStreamApi(nc))
        finally:
            await nc.close()

    return asyncio.run(main())


async def live_config(api: JetStreamApi, kind: str, bucket: str) -> dict[str, Any]:
    return (await api.request(f"STREAM.INFO.{backing_stream_name(kind, bucket)}"))["config"]


def kv_cases(version: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [*KV_CASES, MARKERS_CASE] if parse_version(version) >= (2, 11, 0) else KV_CASES


def expected_read_back(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec bucket_of gives: client variances (allow_direct) are no bucket setting."""
    return {key: value for key, value in spec.items() if key != "allow_direct"}


def test_kv_buckets_made_by_nats_py_are_the_declared_buckets(js_account, nats_server_version):
    cases, server = kv_cases(nats_server_version), parse_version(nats_server_version)

    async def work(js, api):
        found = []
        for settings, spec in cases:
            await js.create_key_value(KeyValueConfig(**settings))
            live = await live_config(api, KV, settings["bucket"])
            found.append((bucket_of(live), same_bucket(KV, spec, live, server)))
        return found

    assert run(js_account, work) == [((KV, spec["bucket"], expected_read_back(spec)), True) for _, spec in cases]


def test_object_stores_made_by_nats_py_are_the_declared_stores(js_account, nats_server_version):
    server = parse_version(nats_server_version)

    async def work(js, api):
        found = []
        for settings, spec in OBJ_CASES:
            await js.create_object_store(settings["bucket"], ObjectStoreConfig(**settings))
            live = await live_config(api, OBJ, settings["bucket"])
            found.append((bucket_of(live), same_bucket(OBJ, spec, live, server)))
        return found

    assert run(js_account, work) == [((OBJ, spec["bucket"], spec), True) for _, spec in OBJ_CASES]


def test_nats_py_uses_a_bucket_jsctl_creates(js_account, nats_server_version):
    server = parse_version(nats_server_version)
    spec = {"bucket": "flags", "history": 3, "ttl": 3600 * S, "compression": "s2", "description": "d"}

    async def work(js, api):
        created = await api.request("STREAM.CREATE.KV_flags", stream_config(KV, spec, server))
        kv = await js.key_value("flags")
        watcher = await kv.watch("feature.>")
        await kv.put("feature.checkout", b"on")
        await kv.put("feature.checkout", b"off")
        await kv.put("feature.search", b"on")
        entry = await kv.get("feature.checkout")
        history = [item.value for item in await kv.history("feature.checkout")]
        seen = []
        async for update in watcher:
            if update is None:
                continue  # the end of the initial values
            seen.append((update.key, update.value))
            if len(seen) == 3:
                break
        await watcher.stop()
        return created["config"], entry.value, entry.revision, history, seen

    config, value, revision, history, seen = run(js_account, work)
    assert (value, revision, history) == (b"off", 2, [b"on", b"off"])
    assert seen == [("feature.checkout", b"on"), ("feature.checkout", b"off"), ("feature.search", b"on")]
    assert bucket_of(config) == (KV, "flags", spec)


def test_nats_py_reads_mirrors_and_sources_jsctl_creates(js_account, nats_server_version):
    server = parse_version(nats_server_version)
    specs = [{"bucket": "origin"}, {"bucket": "other"}, {"bucket": "copy", "mirror": "origin"},
             {"bucket": "merged", "sources": ["origin", "other"]}]

    async def work(js, api):
        configs = [(await api.request(f"STREAM.CREATE.KV_{spec['bucket']}", stream_config(KV, spec, server)))["config"]
                   for spec in specs]
        await (await js.key_value("origin")).put("a", b"1")
        await (await js.key_value("other")).put("b", b"2")
        merged = await js.key_value("merged")

        async def merged_has_both() -> bool:
            keys = await merged.keys() if (await api.request("STREAM.INFO.KV_merged"))["state"]["messages"] == 2 \
                else []
            return sorted(keys) == ["a", "b"]

        async def mirror_has_it() -> bool:
            return (await api.request("STREAM.INFO.KV_copy"))["state"]["messages"] == 1

        return configs, await until(merged_has_both), await until(mirror_has_it), (await merged.get("b")).value

    configs, merged, mirrored, value = run(js_account, work)
    assert [bucket_of(config) for config in configs] == [(KV, spec["bucket"], spec) for spec in specs]
    assert (merged, mirrored, value) == (True, True, b"2")


def test_nats_py_uses_an_object_store_jsctl_creates(js_account, nats_server_version):
    server = parse_version(nats_server_version)
    spec = {"bucket": "artifacts", "max_bytes": 10 << 20, "ttl": 86400 * S, "compression": "s2"}
    payload = bytes(range(256)) * 1024  # 256 KiB: more than one chunk

    async def work(js, api):
        created = await api.request("STREAM.CREATE.OBJ_artifacts", stream_config(OBJ, spec, server))
        store = await js.object_store("artifacts")
        await store.put("build/app.tar", payload)
        await store.put("empty", b"")
        names = sorted(info.name for info in await store.list())
        return created["config"], (await store.get("build/app.tar")).data, (await store.get("empty")).data, names

    config, data, empty, names = run(js_account, work)
    assert (data == payload, empty, names) == (True, b"", ["build/app.tar", "empty"])
    assert bucket_of(config) == (OBJ, "artifacts", spec)


def test_nats_py_reads_objects_through_object_store_sources_jsctl_creates(js_account, nats_server_version):
    """An object put into A is read by nats-py from B, which sources A: the subject transforms move A's
    chunks and metadata to B's subjects, where nats-py looks for them by B's name."""
    server = parse_version(nats_server_version)
    specs = [{"bucket": "origin"}, {"bucket": "other"}, {"bucket": "merged", "sources": ["origin", "other"]}]
    payload = bytes(range(256)) * 1024  # 2 chunks of nats-py's 128 KiB

    async def work(js, api):
        configs = [(await api.request(f"STREAM.CREATE.OBJ_{spec['bucket']}", stream_config(OBJ, spec, server)))
                   ["config"] for spec in specs]
        await (await js.object_store("origin")).put("build/app.tar", payload)
        await (await js.object_store("other")).put("notes", b"n")
        merged = await js.object_store("merged")

        async def merged_has_both() -> bool:  # 2 + 1 chunks, 2 metas
            return (await api.request("STREAM.INFO.OBJ_merged"))["state"]["messages"] == 5

        arrived = await until(merged_has_both)
        reads = [(await merged.get("build/app.tar")).data, (await merged.get("notes")).data]
        return configs, arrived, reads, sorted(info.name for info in await merged.list())

    configs, arrived, reads, names = run(js_account, work)
    assert [bucket_of(config) for config in configs] == [(OBJ, spec["bucket"], spec) for spec in specs]
    assert arrived and reads == [payload, b"n"] and names == ["build/app.tar", "notes"]


def test_declared_object_store_sources_apply_and_nats_py_reads_the_origins_objects_through_them(js_account):
    stores = [{"bucket": "BUILDS"}, {"bucket": "REPORTS"}, {"bucket": "ALL", "sources": ["BUILDS", "REPORTS"]}]
    desired = buckets(*((OBJ, spec) for spec in stores))
    created = plan(js_account, desired, apply=True)  # verified: the server kept the sources as sent
    assert {str(c.address): str(c.action) for c in created.changes} == \
        {f"objectstore/{spec['bucket']}": "create" for spec in stores}
    assert not plan(js_account, desired).changes

    async def through_all(js, api):
        await (await js.object_store("BUILDS")).put("app.tar", b"a" * 200_000)  # 2 chunks
        await (await js.object_store("REPORTS")).put("report", b"r")
        store = await js.object_store("ALL")

        async def both_arrived() -> bool:  # 3 chunks, 2 metas
            return (await api.request("STREAM.INFO.OBJ_ALL"))["state"]["messages"] == 5

        arrived = await until(both_arrived)
        return arrived, (await store.get("app.tar")).data, (await store.get("report")).data, \
            await live_config(api, OBJ, "ALL")

    arrived, build, report, live = run(js_account, through_all)
    assert (arrived, build, report) == (True, b"a" * 200_000, b"r")
    assert bucket_of(live) == (OBJ, "ALL", stores[2])
    assert not plan(js_account, desired).changes  # the copied objects change no setting


def test_nats_py_cannot_read_an_object_store_mirror(js_account, nats_server_version):
    """Why validate refuses ``mirror`` on an object store: a mirror has no subjects of its own, and nats-py
    finds the stream of an object's chunks by subject (STREAM.NAMES), so its get finds none, even with the
    chunks renamed to the mirror's subjects."""
    server = parse_version(nats_server_version)
    mirror = {**stream_config(OBJ, {"bucket": "copy"}, server), "mirror": {
        "name": "OBJ_origin", "subject_transforms": [{"src": "$O.origin.C.>", "dest": "$O.copy.C.>"},
                                                     {"src": "$O.origin.M.>", "dest": "$O.copy.M.>"}]}}
    del mirror["subjects"]

    async def work(js, api):
        await api.request("STREAM.CREATE.OBJ_origin", stream_config(OBJ, {"bucket": "origin"}, server))
        await api.request("STREAM.CREATE.OBJ_copy", mirror)
        await (await js.object_store("origin")).put("o", b"x")
        copy = await js.object_store("copy")

        async def mirrored() -> bool:
            return (await api.request("STREAM.INFO.OBJ_copy"))["state"]["messages"] == 2

        arrived = await until(mirrored)
        with pytest.raises(NotFoundError):
            await copy.get("o")
        return arrived

    assert run(js_account, work)


@pytest.mark.parametrize("kind", [KV, OBJ])
def test_a_declared_bucket_is_created_as_stored(js_account, nats_server_version, kind):
    """What the server stores for stream_config's request is that very bucket (no field it changes)."""
    server = parse_version(nats_server_version)
    spec = {"bucket": "b", "description": "d", "ttl": 90 * S, "max_bytes": 1 << 20, "storage": "memory",
            "metadata": {"team": "x"}, "compression": "s2"}
    if kind == KV:
        spec |= {"history": 10, "max_value_size": 512, "republish": {"src": "$KV.b.>", "dest": "r.>",
                                                                      "headers_only": True}}
        if server >= (2, 11, 0):
            spec["limit_marker_ttl"] = 2 * S

    async def work(js, api):
        return (await api.request(f"STREAM.CREATE.{backing_stream_name(kind, 'b')}",
                                  stream_config(kind, spec, server)))["config"]

    live = run(js_account, work)
    assert same_bucket(kind, spec, live, server)
    assert bucket_of(live) == (kind, "b", spec)


def go_kv_request(bucket: str, **changes: Any) -> dict[str, Any]:
    """The STREAM.CREATE request nats.go's CreateKeyValue sends (jetstream/kv.go prepareKeyValueConfig; natscli
    `nats kv add` uses it): history 3, ttl 1m, the rest at its defaults."""
    return {"name": f"KV_{bucket}", "description": "", "subjects": [f"$KV.{bucket}.>"], "retention": "limits",
            "max_consumers": -1, "max_msgs": -1, "max_bytes": -1, "discard": "new", "max_age": 60 * S,
            "max_msgs_per_subject": 3, "max_msg_size": -1, "storage": "file", "num_replicas": 1,
            "duplicate_window": 60 * S, "allow_rollup_hdrs": True, "deny_delete": True, "allow_direct": True,
            "compression": "none", "consumer_limits": {}, **changes}


def natscli_object_store_request(bucket: str) -> dict[str, Any]:
    """What `nats obj add` sends (object.go of nats.go's jetstream package, natscli's empty placement)."""
    return {"name": f"OBJ_{bucket}", "subjects": [f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"], "max_age": 0,
            "max_bytes": -1, "storage": "file", "num_replicas": 1, "discard": "new", "allow_rollup_hdrs": True,
            "allow_direct": True, "compression": "s2", "placement": {"cluster": ""}, "max_msgs": 0,
            "max_consumers": 0, "max_msgs_per_subject": 0}


def test_buckets_made_as_nats_go_and_natscli_make_them_are_the_declared_buckets(js_account, nats_server_version):
    server = parse_version(nats_server_version)
    cases = [
        (KV, go_kv_request("go_plain"), {"bucket": "go_plain", "history": 3, "ttl": 60 * S}),
        (KV, go_kv_request("go_mirror", subjects=None, mirror={"name": "KV_go_plain"}, mirror_direct=True),
         {"bucket": "go_mirror", "history": 3, "ttl": 60 * S, "mirror": "go_plain"}),
        (KV, go_kv_request("go_sourced", sources=[
            {"name": "KV_go_plain", "subject_transforms": [{"src": "$KV.go_plain.>", "dest": "$KV.go_sourced.>"}]}]),
         {"bucket": "go_sourced", "history": 3, "ttl": 60 * S, "sources": ["go_plain"]}),
        (OBJ, natscli_object_store_request("cli_store"), {"bucket": "cli_store", "compression": "s2"}),
    ]

    async def work(js, api):
        found = []
        for kind, request, spec in cases:
            request = {key: value for key, value in request.items() if value is not None}
            live = (await api.request(f"STREAM.CREATE.{request['name']}", request))["config"]
            found.append((bucket_of(live), same_bucket(kind, spec, live, server)))
        return found

    assert run(js_account, work) == [((kind, spec["bucket"], spec), True) for kind, _, spec in cases]
