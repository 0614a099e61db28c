"""`key_value:` and `object_stores:` in manifests: what loads, what is refused (located), the raw-stream hint."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import ManifestError
from reconciler.jetstream.buckets import KV, OBJ, stream_config
from reconciler.manifest import load_desired
from reconciler.manifest.load import manifest_files

S = 1_000_000_000
ISSUE_EXAMPLE = """\
key_value:
  - bucket: CONFIG
    description: feature flags
    history: 5            # 1..64
    ttl: 1h
    max_value_size: 1KiB
    max_bytes: 1GiB
    storage: file
    replicas: 1
    compression: s2
    limit_marker_ttl: 10m
    entries:
      feature.checkout: "on"
      maintenance.mode: "off"
      config/doc: {value_file: doc.json, sensitive: true}
object_stores:
  - bucket: ARTIFACTS
    description: build outputs
    max_bytes: 10GiB
    storage: file
    replicas: 1
    ttl: 30d
    compression: true
"""


def load(tmp_path, text: str, name: str = "buckets.yaml"):
    (tmp_path / name).write_text(text)
    return load_desired([tmp_path / name])


def errors(tmp_path, text: str) -> list[str]:
    with pytest.raises(ManifestError) as refused:
        load(tmp_path, text, "m.yaml")
    return [line.removeprefix(f"{tmp_path}/") for line in refused.value.lines]


def test_the_issue_example_loads_as_bucket_specs(tmp_path):
    (tmp_path / "doc.json").write_text('{"a": 1}\n')
    desired = load(tmp_path, ISSUE_EXAMPLE)
    kv, store = desired.key_value["CONFIG"], desired.object_stores["ARTIFACTS"]
    assert (kv.kind, kv.name, store.kind, store.name) == (KV, "CONFIG", OBJ, "ARTIFACTS")
    assert kv.config == {
        "bucket": "CONFIG", "description": "feature flags", "history": 5, "ttl": 3600 * S, "max_value_size": 1024,
        "max_bytes": 1 << 30, "storage": "file", "replicas": 1, "compression": "s2", "limit_marker_ttl": 600 * S,
        "entries": {"feature.checkout": {"value": "on", "sensitive": False},
                    "maintenance.mode": {"value": "off", "sensitive": False},
                    "config/doc": {"value": '{"a": 1}\n', "sensitive": True,
                                   "value_file": str(tmp_path / "doc.json")}}}
    assert store.config == {"bucket": "ARTIFACTS", "description": "build outputs", "max_bytes": 10 << 30,
                            "storage": "file", "replicas": 1, "ttl": 30 * 86400 * S, "compression": "s2"}
    assert stream_config(OBJ, store.config, (2, 12, 0))["compression"] == "s2"
    assert kv.origin == f"{tmp_path}/buckets.yaml:2:5" and desired.hints == []


def test_compression_off_is_no_setting(tmp_path):
    desired = load(tmp_path, "key_value:\n  - {bucket: A, compression: false}\n  - {bucket: B, compression: none}\n")
    assert [resource.config for resource in desired.key_value.values()] == [{"bucket": "A"}, {"bucket": "B"}]


def test_buckets_yaml_is_a_default_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "buckets.yaml").write_text("key_value: [{bucket: A}]\n")
    assert [str(path) for path in manifest_files([])] == ["buckets.yaml"]
    (tmp_path / "streams.yaml").write_text("streams: []\n")
    assert [str(path) for path in manifest_files([])] == ["streams.yaml", "buckets.yaml"]


def test_kv_and_object_store_of_one_name_are_two_streams(tmp_path):
    desired = load(tmp_path, "key_value: [{bucket: A}]\nobject_stores: [{bucket: A}]\n")
    assert list(desired.key_value) == list(desired.object_stores) == ["A"]


@pytest.mark.parametrize(("text", "expected"), [
    ("key_value: [{bucket: jsctl_locks}]",
     ["m.yaml:1:22: key_value[0].bucket: bucket 'jsctl_locks' is jsctl's own (its apply lock): choose another name"]),
    ("object_stores: [{bucket: a.b}]",
     ["m.yaml:1:26: object_stores[0].bucket: invalid bucket name 'a.b': only letters, digits, '_' and '-' "
      "(the clients' rule)"]),
    ("key_value: [{bucket: A}, {bucket: A}]",
     ["m.yaml:1:35: key_value[1].bucket: duplicate key-value bucket 'A' (first declared at {dir}/m.yaml:1:13)"]),
    ("key_value: [{bucket: A, num_replicas: 3}]",
     ["m.yaml:1:25: key_value[0].num_replicas: unknown field 'num_replicas' (did you mean 'replicas'?)"]),
    ("object_stores: [{bucket: A, history: 3}]",
     ["m.yaml:1:29: object_stores[0].history: unknown field 'history'"]),
    ("key_value: [{bucket: A, history: 65}]", ["m.yaml:1:34: key_value[0].history: 65 is more than the maximum 64"]),
    ("key_value: [{bucket: A, compression: gzip}]",
     ["m.yaml:1:38: key_value[0].compression: 'gzip' is not one of 'true', 'false', 's2', 'none'"]),
    ("key_value: [{bucket: A, ttl: 10ms}]",
     ["m.yaml:1:30: key_value[0].ttl: ttl must be 0 (kept forever) or at least 100ms"]),
    ("key_value: [{bucket: A, limit_marker_ttl: 500ms}]",
     ["m.yaml:1:43: key_value[0].limit_marker_ttl: limit_marker_ttl must be at least 1s"]),
    ("key_value: [{bucket: A, mirror: B, sources: [C]}]",
     ["m.yaml:1:45: key_value[0].sources: a mirror cannot have sources"]),
    ("key_value: [{bucket: A, mirror: A}]", ["m.yaml:1:33: key_value[0].mirror: a bucket cannot mirror itself"]),
    ("key_value: [{bucket: A, sources: [B, B, A]}]",
     ["m.yaml:1:38: key_value[0].sources[1]: duplicate source 'B'",
      "m.yaml:1:41: key_value[0].sources[2]: a bucket cannot source itself"]),
    ("object_stores: [{bucket: A, sources: [B, B, A]}]",
     ["m.yaml:1:42: object_stores[0].sources[1]: duplicate source 'B'",
      "m.yaml:1:45: object_stores[0].sources[2]: a bucket cannot source itself"]),
    ("object_stores: [{bucket: A, sources: [b.c]}]",
     ["m.yaml:1:39: object_stores[0].sources[0]: invalid bucket name 'b.c': only letters, digits, '_' and '-' (the "
      "clients' rule)"]),
    ("object_stores: [{bucket: A, mirror: B, sources: [C]}]",
     ["m.yaml:1:37: object_stores[0].mirror: an object store cannot be a mirror: no client reads one (nats-py "
      "finds an object's chunks by subject, and a mirror stream has none); declare sources: instead",
      "m.yaml:1:49: object_stores[0].sources: a mirror cannot have sources"]),
    ("key_value: [{bucket: A, mirror: B, entries: {k: v}}]",
     ["m.yaml:1:45: key_value[0].entries: a mirror cannot hold entries: clients write a mirror's keys to its origin "
      "'B'; declare them there"]),
    ("key_value: [{bucket: A, entries: {a..b: v, .x: v, 'a b': v}}]",
     ["m.yaml:1:41: key_value[0].entries.a..b: invalid key 'a..b': must not contain '..' (an empty subject token)",
      "m.yaml:1:48: key_value[0].entries..x: invalid key '.x': must not start or end with '.'",
      "m.yaml:1:58: key_value[0].entries.a b: invalid key 'a b': only letters, digits and '-', '/', '_', '=', '.'"]),
    ("key_value: [{bucket: A, entries: {k: on}}]",
     ["m.yaml:1:38: key_value[0].entries.k: expected a string or a mapping, got true/false (quote it to make it "
      "text)"]),
    ("key_value: [{bucket: A, entries: {k: {value: a, value_file: f}, j: {sensitive: true}}}]",
     ["m.yaml:1:38: key_value[0].entries.k: write either value or value_file",
      "m.yaml:1:68: key_value[0].entries.j: write either value or value_file"]),
    ("key_value: [{bucket: A, entries: {k: {value_file: nope}}}]",
     ["m.yaml:1:51: key_value[0].entries.k.value_file: 'nope': no such file"]),
    ("key_value: [{bucket: A, entries: {k: {value_file: /dev/zero}, d: {value_file: .}}}]",
     ["m.yaml:1:51: key_value[0].entries.k.value_file: '/dev/zero': not a regular file",
      "m.yaml:1:79: key_value[0].entries.d.value_file: '.': not a regular file"]),
    ("key_value: [{bucket: A, max_value_size: 2, entries: {k: {value: abc, sensitive: true}}}]",
     ["m.yaml:1:57: key_value[0].entries.k: the value is 3 bytes, over the bucket's max_value_size of 2"]),
    ("key_value: [{bucket: A}]\nstreams: [{name: KV_A, subjects: [a]}]",
     ["m.yaml:2:18: streams[0].name: stream 'KV_A' is the backing stream of key-value bucket 'A' ({dir}/m.yaml:1:13): "
      "declare it once, as the bucket"]),
    ("key_value: [{bucket: A, republish: {dest: $KV.A.x}}]",
     ["m.yaml:1:43: key_value[0].republish.dest: republishing to '$KV.A.x' would feed the stream its own messages"]),
    ("key_values: []", ["m.yaml:1:1: key_values: unknown top-level key 'key_values' (did you mean 'key_value'?)"]),
], ids=lambda value: value if isinstance(value, str) and len(value) < 60 else None)
def test_refused_with_their_place(tmp_path, text, expected):
    assert errors(tmp_path, text + "\n") == [line.replace("{dir}", str(tmp_path)) for line in expected]


def test_a_sensitive_value_is_in_no_message(tmp_path):
    text = "key_value: [{bucket: A, max_value_size: 2, mirror: B, entries: {k: {value: s3cr3t, sensitive: true}}}]\n"
    assert not any("s3cr3t" in line for line in errors(tmp_path, text))


def test_a_raw_bucket_stream_gets_a_hint(tmp_path):
    desired = load(tmp_path, """\
streams:
  - {name: KV_flags, subjects: ["$KV.flags.>"], max_msgs_per_subject: 5, discard: new}
  - {name: OBJ_files, subjects: ["$O.files.M.>", "$O.files.C.>"]}
  - {name: KV_other, subjects: ["other.>"]}
""", "m.yaml")
    assert list(desired.streams) == ["KV_flags", "OBJ_files", "KV_other"]
    assert desired.hints == [
        f"{tmp_path}/m.yaml:2:12: streams[0].name: hint: stream 'KV_flags' is key-value bucket 'flags': declare it "
        "under key_value: as bucket: flags",
        f"{tmp_path}/m.yaml:3:12: streams[1].name: hint: stream 'OBJ_files' is object store 'files': declare it "
        "under object_stores: as bucket: files"]


def test_validate_shows_hints_and_counts_buckets(jsctl, tmp_path):
    (tmp_path / "streams.yaml").write_text('streams: [{name: KV_a, subjects: ["$KV.a.>"]}]\n')
    (tmp_path / "buckets.yaml").write_text("key_value: [{bucket: b}]\nobject_stores: [{bucket: c}, {bucket: d}]\n")
    result = jsctl("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: 1 stream, 0 consumers, 1 key-value bucket, 2 object stores in streams.yaml, " \
                            "buckets.yaml\n"
    assert result.stderr == "streams.yaml:1:18: streams[0].name: hint: stream 'KV_a' is key-value bucket 'a': " \
                            "declare it under key_value: as bucket: a\n"


def test_the_printed_schema_declares_buckets(jsctl, tmp_path):
    schema = json.loads(jsctl("validate", "--print-schema", cwd=tmp_path).stdout)
    assert {"key_value", "object_stores"} <= set(schema["properties"])
    assert "entries" in schema["$defs"]["kv"]["properties"] and "entries" not in schema["$defs"]["objectstore"][
        "properties"]


def test_a_value_that_is_no_text_is_refused(tmp_path):
    """libyaml refuses a surrogate escape itself; PyYAML's pure-Python reader (jsctl's fallback) lets it through."""
    from reconciler.manifest.load import Document
    from reconciler.manifest.validate import validate_documents

    problems = []
    document = Document("m.yaml", {"key_value": [{"bucket": "A", "entries": {"k": "x\ud800"}}]})
    validate_documents([document], problems)
    assert [problem.message for problem in problems] == ["the value is not text: it holds a lone UTF-16 surrogate"]
