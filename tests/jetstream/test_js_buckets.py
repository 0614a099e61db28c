"""KV buckets and object stores through plan, apply, verify, ownership and prune, against a real
nats-server, with buckets made by nats-py beside declared ones (issue #13)."""

from __future__ import annotations

import asyncio
import json

import nats
from bucket_helpers import PROJECT, buckets, on_nats, plan, raw_streams, until
from js_fixtures import S

from reconciler.jetstream.lock import LOCK_STREAM, ApplyLock
from reconciler.jetstream.ownership import KIND_KEY, MANAGED_KEY, OWNER_KEY
from reconciler.jetstream.session import JetStreamSession
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest.model import KV, OBJ, Desired
from reconciler.plan.model import Action

KIB = 1024


def stream_info(url: str, name: str) -> dict:
    async def scenario(js):
        info = await js._nc.request(f"$JS.API.STREAM.INFO.{name}", b"", timeout=5)
        return json.loads(info.data)

    return on_nats(url, scenario)


def changes(made) -> dict[str, tuple[str, list[str]]]:
    return {str(c.address): (str(c.action), [d.path for d in c.diff]) for c in made.changes}


CONFIG = (KV, {"bucket": "CONFIG", "description": "feature flags", "history": 5, "ttl": 3600 * S,
               "max_value_size": KIB, "max_bytes": 1024 * KIB})
ARTIFACTS = (OBJ, {"bucket": "ARTIFACTS", "description": "build outputs", "max_bytes": 1024 * KIB})


def test_declared_buckets_are_created_and_serve_nats_py_clients(js_account):
    desired = buckets(CONFIG, ARTIFACTS)
    made = plan(js_account, desired, apply=True)
    assert changes(made) == {"kv/CONFIG": ("create", []), "objectstore/ARTIFACTS": ("create", [])}
    assert not plan(js_account, desired).changes

    async def use(js):
        kv = await js.key_value("CONFIG")
        watcher = await kv.watchall()
        await kv.put("feature.checkout", b"on")
        await kv.put("feature.checkout", b"off")
        seen = await watcher.updates(timeout=5)
        while seen is None:
            seen = await watcher.updates(timeout=5)
        await watcher.stop()
        history = [entry.value for entry in await kv.history("feature.checkout")]
        store = await js.object_store("ARTIFACTS")
        await store.put("build.tar", b"x" * 300_000)
        return (await kv.get("feature.checkout")).value, history, seen.key, (await store.get("build.tar")).data

    value, history, watched, blob = on_nats(js_account, use)
    assert (value, history, watched, len(blob)) == (b"off", [b"on", b"off"], "feature.checkout", 300_000)
    assert not plan(js_account, desired).changes  # data is not configuration


def test_a_bucket_nats_py_made_with_the_same_settings_is_adopted_without_a_field_change(js_account):
    async def make(js):
        await js.create_key_value(bucket="CONFIG", description="feature flags", history=5, ttl=3600,
                                  max_value_size=KIB, max_bytes=1024 * KIB)
        await js.create_object_store("ARTIFACTS", description="build outputs", max_bytes=1024 * KIB)

    on_nats(js_account, make)
    desired = buckets(CONFIG, ARTIFACTS)
    made = plan(js_account, desired, apply=True)
    assert changes(made) == {"kv/CONFIG": ("adopt", []), "objectstore/ARTIFACTS": ("adopt", [])}
    config = stream_info(js_account, "KV_CONFIG")["config"]
    assert {k: config["metadata"][k] for k in (MANAGED_KEY, OWNER_KEY, KIND_KEY)} == \
        {MANAGED_KEY: "true", OWNER_KEY: "app", KIND_KEY: "kv"}
    assert not config["allow_direct"]  # nats-py's, kept: the manifest leaves it open
    assert not plan(js_account, desired).changes


def test_live_buckets_show_as_buckets_never_as_their_streams_and_the_lock_bucket_never(js_account):
    async def make(js):
        await js.create_key_value(bucket="THEIRS")
        await js.create_object_store("FILES")

    on_nats(js_account, make)

    async def lock():
        nc = await nats.connect(js_account)
        try:
            from reconciler.jetstream.client import JetStreamApi

            async with ApplyLock(JetStreamApi(nc).nc, timeout_s=5):
                pass
        finally:
            await nc.close()

    asyncio.run(lock())
    assert stream_info(js_account, LOCK_STREAM)["config"]["name"] == LOCK_STREAM
    made = plan(js_account, Desired())
    assert changes(made) == {"kv/THEIRS": ("unmanaged", []), "objectstore/FILES": ("unmanaged", [])}


def test_bucket_settings_change_in_place_and_keep_the_data(js_account):
    async def make(js):  # a nats-py bucket: allow_direct off, allow_msg_ttl on (2.11+) stay as they are
        kv = await js.create_key_value(bucket="CONFIG", description="feature flags", history=5, ttl=3600,
                                       max_value_size=KIB, max_bytes=1024 * KIB)
        await kv.put("k", b"v")

    on_nats(js_account, make)
    kind, spec = CONFIG
    desired = buckets((kind, {**spec, "history": 10, "ttl": 60 * S, "max_bytes": 2048 * KIB,
                              "description": "flags"}))
    made = plan(js_account, desired, apply=True)
    assert changes(made) == {"kv/CONFIG": ("update", ["description", "duplicate_window", "max_age", "max_bytes",
                                                      "max_msgs_per_subject"])}
    assert made.changes[0].details.adopts and not made.changes[0].destructive

    async def read(js):
        return (await (await js.key_value("CONFIG")).get("k")).value

    assert on_nats(js_account, read) == b"v"
    assert not plan(js_account, desired).changes


def test_a_storage_change_is_a_destructive_replace_showing_keys_objects_and_bytes(js_account):
    desired = buckets(CONFIG, ARTIFACTS)
    plan(js_account, desired, apply=True)

    async def fill(js):
        kv = await js.key_value("CONFIG")
        for key in ("a", "b", "c"):
            await kv.put(key, b"v")
        store = await js.object_store("ARTIFACTS")
        for name in ("one", "two", "gone"):
            await store.put(name, b"x" * 1000)
        await store.put("empty", b"")
        await store.delete("gone")

    on_nats(js_account, fill)
    moved = buckets(*[(kind, {**spec, "storage": "memory"}) for kind, spec in (CONFIG, ARTIFACTS)])
    made = plan(js_account, moved)
    by_address = {str(c.address): c for c in made.changes}
    kv, store = by_address["kv/CONFIG"], by_address["objectstore/ARTIFACTS"]
    assert (kv.action, store.action) == (Action.REPLACE, Action.REPLACE) and kv.destructive and store.destructive
    assert kv.reason == "the storage type cannot be changed"
    assert kv.details.destroys["keys"] == 3 and kv.details.destroys["bytes"] > 0
    assert store.details.destroys["objects"] == 3 and store.details.destroys["bytes"] > 3000
    assert "consumers" not in kv.details.destroys


def test_prune_deletes_this_projects_buckets_no_manifest_declares(js_account):
    plan(js_account, buckets(CONFIG, ARTIFACTS), apply=True)

    async def make(js):
        await js.create_key_value(bucket="THEIRS")

    on_nats(js_account, make)
    made = plan(js_account, Desired(), prune=True)
    assert changes(made) == {"kv/CONFIG": ("delete", []), "objectstore/ARTIFACTS": ("delete", []),
                             "kv/THEIRS": ("unmanaged", [])}
    assert changes(plan(js_account, Desired(), prune=True, apply=True))
    assert changes(plan(js_account, Desired(), prune=True)) == {"kv/THEIRS": ("unmanaged", [])}


def test_a_bucket_declared_as_a_raw_stream_moves_to_key_value_as_an_adopt_of_the_bucket(js_account):
    made = plan(js_account, raw_streams(CONFIG), apply=True)
    assert changes(made) == {"stream/KV_CONFIG": ("create", [])}  # as written (validate hints at key_value:)
    assert KIND_KEY not in stream_info(js_account, "KV_CONFIG")["config"]["metadata"]
    moved = plan(js_account, buckets(CONFIG), apply=True)  # as a jsctl before the kind mark made it, too
    assert changes(moved) == {"kv/CONFIG": ("adopt", [])}  # the same stream: no delete, no create
    assert "declared as a KV bucket" in moved.changes[0].reason
    assert stream_info(js_account, "KV_CONFIG")["config"]["metadata"][KIND_KEY] == "kv"
    assert changes(plan(js_account, buckets(CONFIG))) == {}


def test_a_bucket_declared_back_as_its_raw_stream_is_an_adopt_of_the_stream(js_account):
    plan(js_account, buckets(CONFIG, ARTIFACTS), apply=True)
    assert stream_info(js_account, "OBJ_ARTIFACTS")["config"]["metadata"][KIND_KEY] == "objectstore"
    streams = raw_streams(CONFIG, ARTIFACTS)
    moved = plan(js_account, streams, apply=True)
    assert changes(moved) == {"stream/KV_CONFIG": ("adopt", []), "stream/OBJ_ARTIFACTS": ("adopt", [])}
    assert KIND_KEY not in stream_info(js_account, "KV_CONFIG")["config"]["metadata"]
    assert changes(plan(js_account, streams)) == {}


def test_mirrors_and_sources_between_buckets_apply_in_order_and_carry_the_keys(js_account):
    desired = buckets((KV, {"bucket": "EU"}), (KV, {"bucket": "US"}),
                      (KV, {"bucket": "ALL", "sources": ["EU", "US"]}), (KV, {"bucket": "EU_COPY", "mirror": "EU"}))
    made = plan(js_account, desired, apply=True)
    assert changes(made) == {f"kv/{name}": ("create", []) for name in ("ALL", "EU", "EU_COPY", "US")}
    assert not plan(js_account, desired).changes

    async def flow(js):
        await (await js.key_value("EU")).put("price", b"10")
        await (await js.key_value("US")).put("tax", b"7")
        found = {}

        async def arrived() -> bool:
            for stream, subject in (("KV_ALL", "$KV.ALL.price"), ("KV_ALL", "$KV.ALL.tax"),
                                    ("KV_EU_COPY", "$KV.EU.price")):
                reply = json.loads((await js._nc.request(f"$JS.API.STREAM.MSG.GET.{stream}",
                                                         json.dumps({"last_by_subj": subject}).encode())).data)
                found[subject if stream == "KV_ALL" else stream] = "message" in reply
            return all(found.values())

        await until(arrived)  # sourcing and mirroring are asynchronous: polled within a deadline
        return found

    assert on_nats(js_account, flow) == {"$KV.ALL.price": True, "$KV.ALL.tax": True, "KV_EU_COPY": True}


def test_check_judges_a_declared_bucket_as_its_backing_stream_at_the_buckets_address(js_account):
    from reconciler.health.check import check_health
    from reconciler.health.evaluate import CRITICAL, OK, WARNING

    desired = buckets(CONFIG)

    def check():
        return {r.address: (r.state, r.messages)
                for r in asyncio.run(check_health(NatsSettings(url=js_account), desired, {}))}

    assert check() == {"kv/CONFIG": (CRITICAL, ["does not exist"])}
    plan(js_account, desired, apply=True)
    assert check() == {"kv/CONFIG": (OK, [])}

    async def by_hand(js):  # someone raises the history with natscli's `nats kv edit`
        info = await js._nc.request("$JS.API.STREAM.INFO.KV_CONFIG", b"", timeout=5)
        config = {**json.loads(info.data)["config"], "max_msgs_per_subject": 9}
        await js._nc.request("$JS.API.STREAM.UPDATE.KV_CONFIG", json.dumps(config).encode(), timeout=5)

    on_nats(js_account, by_hand)
    assert check() == {"kv/CONFIG": (WARNING, ["differs from the manifest (max_msgs_per_subject (history))"])}


def test_a_saved_plans_basis_covers_declared_buckets_and_names_one_changed_since(js_account):
    from reconciler.jetstream.basis import recorded, what_changed

    desired = buckets(CONFIG, ARTIFACTS)

    def basis():
        async def run():
            async with JetStreamSession(NatsSettings(url=js_account)) as session:
                made = await session.plan(desired, ownership=PROJECT)
                return recorded(session.declared(desired), made, session.live)

        return asyncio.run(run())

    assert basis() == {}  # nothing exists yet: a bucket appearing since would make the plan stale
    plan(js_account, desired, apply=True)
    before = basis()
    assert sorted(before) == ["kv/CONFIG", "objectstore/ARTIFACTS"]

    async def by_hand(js):
        await js.delete_key_value("CONFIG")
        await js.create_key_value(bucket="CONFIG", history=2)

    on_nats(js_account, by_hand)
    stale = what_changed(before, basis())
    assert len(stale) == 1 and stale[0].startswith("live resource kv/CONFIG was ")


BUCKETS_YAML = """key_value:
  - bucket: CONFIG
    description: feature flags
    history: 5
    ttl: 1h
object_stores:
  - bucket: ARTIFACTS
    max_bytes: 1MiB
"""


def test_jsctl_plans_applies_saves_checks_and_prunes_buckets_from_buckets_yaml(jsctl, js_account, tmp_path):
    from reconciler.errors import EXIT_REFUSED

    env = {"NATS_URL": js_account}
    (tmp_path / "buckets.yaml").write_text(BUCKETS_YAML)
    mine = ["--owner", "app"]
    made = jsctl("plan", "--out", "plan.json", *mine, env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "+ kv/CONFIG  create" in made.stdout and "+ objectstore/ARTIFACTS  create" in made.stdout
    assert "KV_" not in made.stdout  # a bucket shows as its settings, not as its stream
    done = jsctl("apply", "plan.json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    checked = jsctl("check", env=env, cwd=tmp_path)
    assert checked.returncode == 0 and "kv/CONFIG" in checked.stdout, checked.stdout + checked.stderr

    # A saved plan goes stale when a declared bucket changes by hand.
    (tmp_path / "buckets.yaml").write_text(BUCKETS_YAML.replace("history: 5", "history: 10"))
    assert jsctl("plan", "--out", "plan.json", *mine, env=env, cwd=tmp_path).returncode == 0

    async def by_hand(js):
        info = json.loads((await js._nc.request("$JS.API.STREAM.INFO.KV_CONFIG", b"", timeout=5)).data)
        config = {**info["config"], "description": "edited"}
        await js._nc.request("$JS.API.STREAM.UPDATE.KV_CONFIG", json.dumps(config).encode(), timeout=5)

    on_nats(js_account, by_hand)
    stale = jsctl("apply", "plan.json", env=env, cwd=tmp_path)
    assert stale.returncode == EXIT_REFUSED, stale.stdout + stale.stderr
    assert 'live resource kv/CONFIG was changed since the plan: description: "feature flags" -> "edited"' \
        in stale.stderr

    # --prune deletes this project's buckets no manifest declares, destructive with what they hold.
    (tmp_path / "buckets.yaml").write_text("key_value: []\n")
    pruned = jsctl("plan", "--prune", *mine, "-o", "json", env=env, cwd=tmp_path)
    changes = {c["address"]: (c["action"], c["destructive"], c["details"]["destroys"])
               for c in json.loads(pruned.stdout)["changes"]}
    assert changes == {"kv/CONFIG": ("delete", True, {"keys": 0, "bytes": 0}),
                       "objectstore/ARTIFACTS": ("delete", True, {"objects": 0, "bytes": 0})}
    done = jsctl("apply", "--prune", *mine, "--yes", "--allow-destructive", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert jsctl("plan", "--prune", *mine, "--detailed-exitcode", env=env, cwd=tmp_path).returncode == 0


RAW_KV_YAML = """\
streams:
  - name: KV_CONFIG
    subjects: ["$KV.CONFIG.>"]
    retention: limits
    discard: new
    allow_rollup_hdrs: true
    allow_direct: true
    deny_delete: true
    max_msgs_per_subject: 5
    max_age: 1h
    duplicate_window: 2m
"""


def test_jsctl_plans_the_move_of_a_raw_kv_stream_to_key_value_as_an_adopt_of_the_bucket(jsctl, js_account, tmp_path):
    env, mine = {"NATS_URL": js_account}, ["--owner", "app"]
    (tmp_path / "streams.yaml").write_text(RAW_KV_YAML)
    done = jsctl("apply", *mine, "--yes", env=env, cwd=tmp_path)
    assert done.returncode == 0 and "stream/KV_CONFIG" in done.stdout, done.stdout + done.stderr

    (tmp_path / "streams.yaml").write_text("streams: []\n")
    (tmp_path / "buckets.yaml").write_text("key_value:\n  - bucket: CONFIG\n    history: 5\n    ttl: 1h\n")
    moved = jsctl("plan", *mine, "-o", "json", env=env, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    planned = {c["address"]: (c["action"], c["diff"]) for c in json.loads(moved.stdout)["changes"]}
    assert planned == {"kv/CONFIG": ("adopt", [])}  # no stream/KV_CONFIG delete, no kv/CONFIG create
    done = jsctl("apply", *mine, "--yes", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert jsctl("plan", *mine, "--detailed-exitcode", env=env, cwd=tmp_path).returncode == 0
