"""`jsctl export` as a user runs it in a repository, against the real nats-server: what it writes, what it
refuses to overwrite, what it merges, and that what it writes plans as adopt only (docs/plan-apply.md, "Export")."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from js_fixtures import VARIED_CONSUMERS, VARIED_STREAMS, desired_of
from support import HACK, REPO, create_by_hand, delete_all_streams

from reconciler.dev.servers import NatsServer
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.execute import execute
from reconciler.jetstream.observe import observe
from reconciler.jetstream.ownership import Ownership
from reconciler.jetstream.plan import plan_jetstream
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest.project import load_project

S = 1_000_000_000
# yaml-language-server's own tests of a modeline (src/languageservice/services/modelineUtil.ts)
MODELINE = re.compile(r"^#\s+(?:yaml-language-server\s*:|\$schema:)")
MODELINE_SCHEMA = re.compile(r"\$schema(?:=|:\s*)(\S+)")


# jsctl runs in REPO in these tests: its jsctl.yaml names the project that owns what create_varied makes
REPO_PROJECT = Ownership(load_project(REPO / "jsctl.yaml").project)


def env(url: str) -> dict[str, str]:
    return {"NATS_URL": url}


def create_varied(url: str) -> None:
    async def create() -> None:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            api = JetStreamApi(nc)
            await execute(api, plan_jetstream(desired_of(VARIED_STREAMS, VARIED_CONSUMERS), await observe(api),
                                              ownership=REPO_PROJECT).pending)
        finally:
            await nc.close()

    asyncio.run(create())


def actions(jsctl, url: str, directory: Path, extra: dict[str, str] | None = None) -> list[tuple[str, str, list[str]]]:
    plan = jsctl("plan", "-f", str(directory), "-o", "json", env={**env(url), **(extra or {})})
    assert plan.returncode == 0, plan.stdout + plan.stderr
    return [(c["address"], c["action"], [d["path"] for d in c["diff"]]) for c in json.loads(plan.stdout)["changes"]]


ADOPT_ONLY: list[str] = []  # an adopt changes no field: the ownership marks are not shown as a diff



def test_export_plans_as_adopt_only_then_apply_then_no_changes(jsctl, js_account, tmp_path):
    create_varied(js_account)
    create_by_hand(js_account, [{"name": "BY_HAND", "subjects": ["hand.>"], "max_msgs": 5}],
                   [("BY_HAND", {"durable_name": "PULL", "ack_policy": "explicit", "max_deliver": 3})])
    done = jsctl("export", "--dir", str(tmp_path), env=env(js_account))
    assert done.returncode == 0, done.stderr
    exported = (tmp_path / "streams.yaml").read_text()
    assert "max_consumers: -1" not in exported and "_nats" not in exported and "io.jsctl" not in exported
    # What jsctl created matches; what was made by hand is adopted, with no field changed.
    assert actions(jsctl, js_account, tmp_path) == [("stream/BY_HAND", "adopt", ADOPT_ONLY),
                                                    ("consumer/BY_HAND/PULL", "adopt", ADOPT_ONLY)]
    assert jsctl("apply", "-f", str(tmp_path), "--yes", env=env(js_account)).returncode == 0
    assert actions(jsctl, js_account, tmp_path) == []


def test_a_push_consumer_without_acks_round_trips_with_its_ack_policy(jsctl, js_account, tmp_path):
    create_by_hand(js_account, [{"name": "EVENTS", "subjects": ["events.>"]}],
                   [("EVENTS", {"durable_name": "AUDIT", "deliver_subject": "audit.events", "ack_policy": "none"})])
    assert jsctl("export", "--dir", str(tmp_path), env=env(js_account)).returncode == 0
    [consumer] = yaml.safe_load((tmp_path / "consumers.yaml").read_text())["consumers"]
    assert consumer == {"stream": "EVENTS", "durable_name": "AUDIT", "ack_policy": "none",
                        "deliver_subject": "audit.events"}
    assert actions(jsctl, js_account, tmp_path) == [("stream/EVENTS", "adopt", ADOPT_ONLY),
                                                    ("consumer/EVENTS/AUDIT", "adopt", ADOPT_ONLY)]
    assert jsctl("apply", "-f", str(tmp_path), "--yes", env=env(js_account)).returncode == 0
    assert actions(jsctl, js_account, tmp_path) == []


def test_export_refuses_to_overwrite_without_force(jsctl, js_account, tmp_path):
    create_by_hand(js_account, [{"name": "ORDERS", "subjects": ["orders.>"]}])
    (tmp_path / "streams.yaml").write_text("# ours\nstreams: []\n")
    refused = jsctl("export", "--dir", str(tmp_path), env=env(js_account))
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.strip() == (f"jsctl: error: {tmp_path}/streams.yaml exists: pass --force to overwrite, "
                                      "--stream NAME to merge streams into them, or --stdout to print")
    assert (tmp_path / "streams.yaml").read_text() == "# ours\nstreams: []\n"
    assert not (tmp_path / "consumers.yaml").exists()
    forced = jsctl("export", "--dir", str(tmp_path), "--force", env=env(js_account))
    assert forced.returncode == 0, forced.stderr
    assert "ORDERS" in (tmp_path / "streams.yaml").read_text()


def test_export_to_stdout_writes_no_file(jsctl, js_account, tmp_path):
    create_by_hand(js_account, [{"name": "ORDERS", "subjects": ["orders.>"]}],
                   [("ORDERS", {"durable_name": "C", "ack_policy": "explicit"})])
    done = jsctl("export", "--stdout", env=env(js_account), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
    printed = yaml.safe_load(done.stdout)
    assert printed == {"streams": [{"name": "ORDERS", "subjects": ["orders.>"]}],
                       "consumers": [{"stream": "ORDERS", "durable_name": "C", "ack_policy": "explicit"}]}
    (tmp_path / "all.yaml").write_text(done.stdout)  # one manifest file, as printed
    assert actions(jsctl, js_account, tmp_path / "all.yaml") == [("stream/ORDERS", "adopt", ADOPT_ONLY),
                                                                 ("consumer/ORDERS/C", "adopt", ADOPT_ONLY)]
    both = jsctl("export", "--stdout", "--dir", str(tmp_path / "x"), env=env(js_account))
    assert both.returncode == 1 and "--stdout writes no file" in both.stderr and not (tmp_path / "x").exists()


def test_export_stream_twice_into_one_directory_keeps_the_other(jsctl, js_account, tmp_path):
    create_by_hand(js_account, [{"name": "A", "subjects": ["a.>"]}, {"name": "B", "subjects": ["b.>"]}],
                   [("A", {"durable_name": "CA", "ack_policy": "explicit"}),
                    ("B", {"durable_name": "CB", "ack_policy": "explicit"})])
    first = jsctl("export", "--stream", "A", "--dir", str(tmp_path), env=env(js_account))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("wrote 1 stream and 1 consumer (")
    second = jsctl("export", "--stream", "B", "--dir", str(tmp_path), env=env(js_account))
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("merged 1 stream and 1 consumer (")
    assert [s["name"] for s in yaml.safe_load((tmp_path / "streams.yaml").read_text())["streams"]] == ["A", "B"]
    assert [(c["stream"], c["durable_name"]) for c in
            yaml.safe_load((tmp_path / "consumers.yaml").read_text())["consumers"]] == [("A", "CA"), ("B", "CB")]
    assert jsctl("apply", "-f", str(tmp_path), "--yes", env=env(js_account)).returncode == 0
    # With both declared, --prune has nothing to delete: the first export was not dropped.
    pruned = jsctl("plan", "-f", str(tmp_path), "--prune", "-o", "json", env=env(js_account))
    assert json.loads(pruned.stdout)["changes"] == [], pruned.stdout + pruned.stderr


def test_export_stream_merges_into_a_hand_written_file_keeping_its_comments(jsctl, js_account, tmp_path):
    create_by_hand(js_account, [{"name": "ORDERS", "subjects": ["orders.>"], "max_age": 365 * 86400 * S,
                                 "description": "orders, live"}],
                   [("ORDERS", {"durable_name": "MAKER", "ack_policy": "explicit", "max_ack_pending": 100})])
    streams = ("# yaml-language-server: $schema=../schema.json\n"
               "streams:\n"
               "- name: OTHER      # another team's: keep\n"
               "  subjects: ['other.>']\n"
               "- name: ORDERS     # the main one\n"
               "  subjects: [\"orders.>\"]\n"
               "  max_age: 365d    # a year, for audit\n"
               "  description: orders, old\n")
    consumers = ("consumers:\n"
                 "  # the maker's consumer\n"
                 "  - stream: ORDERS\n"
                 "    durable_name: MAKER\n"
                 "    ack_policy: explicit\n"
                 "    max_ack_pending: 50   # raised in the console\n"
                 "  - stream: ORDERS\n"
                 "    durable_name: GONE\n"
                 "    ack_policy: explicit\n"
                 "  - stream: OTHER\n"
                 "    durable_name: KEEP\n"
                 "    ack_policy: explicit\n")
    (tmp_path / "streams.yaml").write_text(streams)
    (tmp_path / "consumers.yaml").write_text(consumers)
    done = jsctl("export", "--stream", "ORDERS", "--dir", str(tmp_path), env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "streams.yaml").read_text() == streams.replace("orders, old", "orders, live")
    assert (tmp_path / "consumers.yaml").read_text() == (
        consumers.replace("max_ack_pending: 50   #", "max_ack_pending: 100  #")  # the comment keeps its column
        .replace("  - stream: ORDERS\n    durable_name: GONE\n    ack_policy: explicit\n", ""))


@pytest.mark.parametrize("text, problem", [
    ("streams: [\n", "invalid YAML"),
    ("stream:\n  - name: A\n", "unknown top-level key 'stream'"),
    ("streams:\n  - name: A\n    max_age: forever\n", "streams[0].max_age"),
])
def test_merging_refuses_a_file_that_is_not_a_manifest(jsctl, js_account, tmp_path, text, problem):
    create_by_hand(js_account, [{"name": "A", "subjects": ["a.>"]}])
    (tmp_path / "streams.yaml").write_text(text)
    refused = jsctl("export", "--stream", "A", "--dir", str(tmp_path), env=env(js_account))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert f"jsctl: error: cannot merge into {tmp_path}: not valid jsctl manifests" in refused.stderr
    assert f"{tmp_path}/streams.yaml:" in refused.stderr and problem in refused.stderr
    assert (tmp_path / "streams.yaml").read_text() == text and sorted(tmp_path.iterdir()) == [tmp_path / "streams.yaml"]


def test_export_stream_gives_a_mirror_the_fields_of_a_full_export(jsctl, js_account, tmp_path):
    create_by_hand(js_account, [{"name": "ORIGIN", "subjects": ["origin.>"], "allow_direct": True},
                                {"name": "COPY", "mirror": {"name": "ORIGIN"}}])
    assert jsctl("export", "--dir", str(tmp_path / "all"), env=env(js_account)).returncode == 0
    assert jsctl("export", "--stream", "COPY", "--dir", str(tmp_path / "one"), env=env(js_account)).returncode == 0
    full = {s["name"]: s for s in yaml.safe_load((tmp_path / "all" / "streams.yaml").read_text())["streams"]}
    [one] = yaml.safe_load((tmp_path / "one" / "streams.yaml").read_text())["streams"]
    assert one == full["COPY"] == {"name": "COPY", "mirror": {"name": "ORIGIN"}}  # mirror_direct: the server's


def test_export_writes_none_of_jsctls_marks(jsctl, js_account, tmp_path):
    marks = {"io.jsctl.managed": "true", "io.jsctl.owner": "payments", "io.jsctl.future": "x"}
    create_by_hand(js_account, [{"name": "A", "subjects": ["a.>"], "metadata": {**marks, "team": "payments"}}],
                   [("A", {"durable_name": "C", "ack_policy": "explicit", "metadata": marks})])
    for flags in ([], ["--include-defaults"]):
        done = jsctl("export", "--stdout", *flags, env=env(js_account))
        assert done.returncode == 0, done.stderr
        assert "io.jsctl" not in done.stdout
        printed = yaml.safe_load(done.stdout)
        assert printed["streams"][0]["metadata"] == {"team": "payments"} and "metadata" not in printed["consumers"][0]


def test_header_names_the_source_and_its_schema_line_validates_the_export(jsctl, tmp_path):
    """On a server with accounts and a JetStream domain, reached with credentials in its URL."""
    server = NatsServer(tmp_path / "server")
    server.config = (f'jetstream {{ store_dir: "{server.store_dir}", domain: hub }}\n'
                     'accounts { APP { jetstream: enabled, users: [{user: app, password: "s3cret-pw"}] } }\n')
    server.start()
    try:
        url = server.url.replace("nats://", "nats://app:s3cret-pw@")
        create_by_hand(url, [{"name": "ORDERS", "subjects": ["orders.>"], "description": "on"}])
        done = jsctl("export", "--dir", str(tmp_path / "repo"), env=env(url))
        assert done.returncode == 0, done.stderr
    finally:
        server.stop()
    manifest = tmp_path / "repo" / "streams.yaml"
    lines = manifest.read_text().splitlines()
    assert re.fullmatch(r"# Exported by `jsctl export` \(jsctl \d+\.\d+\.\d+\S*\) at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        lines[0]), lines[0]
    assert lines[1] == (f"# from nats://app:***@127.0.0.1:{server.port} (nats-server 2.12.8, server "
                        f"{server.server_name}), account APP, JetStream domain hub")
    assert "s3cret-pw" not in manifest.read_text() + done.stdout + done.stderr
    [modeline] = [line for line in lines if MODELINE.match(line)]
    schema_file = (manifest.parent / MODELINE_SCHEMA.search(modeline)[1]).resolve()  # relative to the manifest
    assert schema_file == tmp_path / "repo" / "manifest.schema.json"
    schema = json.loads(schema_file.read_text())
    for validator in (jsonschema.Draft202012Validator, jsonschema.Draft7Validator):  # yaml-language-server: 7
        validator.check_schema(schema)
        for name in ("streams.yaml", "consumers.yaml"):
            validator(schema).validate(yaml.safe_load((tmp_path / "repo" / name).read_text()))
    assert yaml.safe_load(manifest.read_text())["streams"][0]["description"] == "on"  # a string, not YAML 1.1's true


def test_the_read_only_plan_user_exports_naming_its_account(jsctl, nats_server_nkeys, tmp_path):
    """hack/nats-server.conf's PLAN user may read streams and consumers and ask its own account
    ($SYS.REQ.USER.INFO): the export is whole and its header names the account (docs/gitops.md)."""
    app = {"NATS_URL": nats_server_nkeys.url, "NATS_NKEY": str(HACK / "seed.txt")}
    done = jsctl("apply", "-f", str(REPO / "streams.yaml"), "-f", str(REPO / "consumers.yaml"), "--yes", env=app)
    assert done.returncode == 0, done.stderr
    try:
        done = jsctl("export", "--dir", str(tmp_path), env={**app, "NATS_NKEY": str(HACK / "plan-seed.txt")})
        assert done.returncode == 0, done.stderr
        header = (tmp_path / "streams.yaml").read_text().split("\n", 3)[:3]
        assert any(", account " in line and "JetStream domain (none)" in line for line in header), header
        assert "account (unknown)" not in "\n".join(header)
        assert actions(jsctl, nats_server_nkeys.url, tmp_path, app) == []
    finally:
        delete_all_streams(nats_server_nkeys.url, str(HACK / "seed.txt"))


def test_buckets_are_exported_as_buckets_and_plan_as_adopt_only(jsctl, js_account, tmp_path):
    manifests = tmp_path / "declared"
    manifests.mkdir()
    (manifests / "buckets.yaml").write_text("key_value:\n  - bucket: OURS\n    history: 5\n    ttl: 1h\n"
                                            "    max_value_size: 1KiB\n    compression: true\n")
    assert jsctl("apply", "-f", str(manifests), "--yes", env=env(js_account)).returncode == 0

    async def by_nats_py() -> None:
        import nats

        nc = await nats.connect(js_account)
        js = nc.jetstream()
        await js.create_key_value(bucket="THEIRS", description="flags", history=3, ttl=60, max_bytes=1 << 20)
        await js.create_object_store("FILES", description="build outputs", max_bytes=10 << 20)
        await nc.close()

    asyncio.run(by_nats_py())
    out = tmp_path / "exported"
    done = jsctl("export", "--dir", str(out), env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert "1 stream" not in done.stdout and "2 KV buckets and 1 object store" in done.stdout
    exported = yaml.safe_load((out / "buckets.yaml").read_text())
    assert exported == {
        "key_value": [{"bucket": "OURS", "history": 5, "ttl": "1h", "max_value_size": "1KiB", "compression": "s2"},
                      {"bucket": "THEIRS", "description": "flags", "history": 3, "ttl": "1m", "max_bytes": "1MiB"}],
        "object_stores": [{"bucket": "FILES", "description": "build outputs", "max_bytes": "10MiB"}]}
    assert yaml.safe_load((out / "streams.yaml").read_text()) == {"streams": []}
    assert actions(jsctl, js_account, out) == [("kv/THEIRS", "adopt", ADOPT_ONLY),
                                               ("objectstore/FILES", "adopt", ADOPT_ONLY)]
    assert jsctl("apply", "-f", str(out), "--yes", env=env(js_account)).returncode == 0
    assert actions(jsctl, js_account, out) == []
    refused = jsctl("export", "--stream", "KV_OURS", "--dir", str(out), env=env(js_account))
    assert refused.returncode == 1 and "--stream names the backing stream of kv/OURS" in refused.stderr
