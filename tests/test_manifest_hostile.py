"""Hostile manifests, generated: loading and validating end in success or in located problems, never in
an exception; what passes is JSON the server can decode (no NaN, no integer beyond its Go type)."""

from __future__ import annotations

import json
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.jetstream.buckets import KV, OBJ, bucket_of, same_bucket, stream_config
from reconciler.manifest.gotypes import GO_TYPES, RANGES
from reconciler.manifest.load import Document, parse_document
from reconciler.manifest.schema import manifest_schema
from reconciler.manifest.units import values_at
from reconciler.manifest.validate import validate_documents

LINE = re.compile(r"^m\.yaml:[1-9]\d*:[1-9]\d*: \S.*: .+$")
NEWEST = (2, 15, 1)
SECTION_OF = {KV: "key_value", OBJ: "object_stores"}
CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_and_validate(text: str) -> None:
    problems = []
    desired = validate_documents([parse_document(text, "m.yaml", problems)], problems)
    lines = [str(problem) for problem in problems]
    assert all(LINE.match(line) and line.isprintable() for line in lines), lines
    assert all(LINE.match(hint) and hint.isprintable() for hint in desired.hints), desired.hints
    if lines:
        return
    for kind, resources in (("stream", desired.streams), ("consumer", desired.consumers), ("kv", desired.key_value),
                            ("objectstore", desired.object_stores)):
        for resource in resources.values():
            json.dumps(resource.config, allow_nan=False)
            for path, go_type in GO_TYPES[kind].items():
                low, high = RANGES[go_type]
                assert all(low <= container[key] <= high for _, container, key in values_at(resource.config, path))
    for kind, resources in ((KV, desired.key_value), (OBJ, desired.object_stores)):
        for resource in resources.values():  # a valid bucket is a stream that reads back as that bucket
            stream = stream_config(kind, resource.config, NEWEST)
            json.dumps(stream, allow_nan=False)
            read = bucket_of(stream)
            assert read is not None and read[:2] == (kind, resource.name)
            assert same_bucket(kind, read[2], stream, NEWEST) and same_bucket(kind, resource.config, stream, NEWEST)
            again: list = []  # what export writes of it is a valid manifest
            validate_documents([Document("r.yaml", {SECTION_OF[kind]: [read[2]]})], again)
            assert again == []


YAML_PIECES = st.sampled_from([
    "streams:", "consumers:", "\n", "  - ", "    ", "name: ", "subjects: ", "metadata: ", "max_age: ", "max_bytes: ",
    "stream: ", "durable_name: ", "x-a: ", "&a ", "*a", "&b ", "*b", "<<: ", "!!set ", "!!binary ", "!!omap ",
    "!custom ", "? ", ": ", "[", "]", "{", "}", ", ", "'", '"', "-", "1", "9223372036854775808", "1.0", ".nan",
    "yes", "null", "~", "1h", "0.0000000001s", "１h", "A", "a.*", ">", "\\0", "\\x01", "\t", "#", "|", ">-",
    "2025-01-31T00:00:00Z", "%", "@", "`", "\u200b", "\x85", "key_value:", "object_stores:", "bucket: ",
    "entries: ", "value_file: ", "sensitive: ", "history: ", "mirror: ", "sources: ",
])


@CHECKS
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_text_assembled_from_yaml_pieces(text):
    load_and_validate(text)


@CHECKS
@given(st.text(max_size=200))
def test_any_text(text):
    load_and_validate(text)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**66),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["1h", "1.5s", "0.0000000001s", "٣h", "１h", "1PB", "-1", "4GB", "300y", "50%", " 50%", "a.*",
                     "a..b", ">", "nul\0x", "\b", "a\u00a0b", "é" * 128, "$JS.API.>", "2025-01-31T00:00:00Z"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)


def fields(kind: str) -> st.SearchStrategy[dict]:
    names = sorted(manifest_schema()["$defs"][kind]["properties"])
    return st.dictionaries(st.sampled_from(names), VALUES, max_size=6)


@CHECKS
@given(streams=st.lists(fields("stream"), max_size=3), consumers=st.lists(fields("consumer"), max_size=3))
def test_configs_with_any_value_in_any_field(streams, consumers):
    load_and_validate(yaml.safe_dump({"streams": streams, "consumers": consumers}, allow_unicode=True))


@CHECKS
@given(name=st.text(max_size=8), subjects=st.lists(st.text(alphabet="ab.*> \x00é", max_size=6), max_size=4),
       number=st.integers())
def test_near_valid_streams_and_consumers(name, subjects, number):
    stream = {"name": name, "subjects": subjects, "max_msgs": number, "max_age": number}
    consumer = {"stream": name, "durable_name": name, "max_deliver": number, "backoff": [number],
                "filter_subjects": subjects}
    load_and_validate(yaml.safe_dump({"streams": [stream], "consumers": [consumer]}, allow_unicode=True))


@CHECKS
@given(key_value=st.lists(fields("kv"), max_size=3), object_stores=st.lists(fields("objectstore"), max_size=3))
def test_buckets_with_any_value_in_any_field(key_value, object_stores):
    load_and_validate(yaml.safe_dump({"key_value": key_value, "object_stores": object_stores}, allow_unicode=True))


ENTRY_FIELDS = st.dictionaries(st.sampled_from(["value", "value_file", "sensitive", "other"]), VALUES, max_size=3)


@CHECKS
@given(bucket=st.text(max_size=8), entries=st.dictionaries(st.text(max_size=8), st.one_of(SCALARS, ENTRY_FIELDS),
                                                           max_size=4),
       mirror=st.one_of(st.none(), st.text(max_size=4)), sources=st.lists(st.text(max_size=4), max_size=3),
       number=st.integers())
def test_near_valid_buckets(bucket, entries, mirror, sources, number):
    kv = {"bucket": bucket, "entries": entries, "sources": sources, "history": number, "ttl": number,
          "max_value_size": number, "limit_marker_ttl": number, **({"mirror": mirror} if mirror is not None else {})}
    store = {"bucket": bucket, "ttl": number, "max_bytes": number, "replicas": number}
    stream = {"name": f"KV_{bucket}", "subjects": [f"$KV.{bucket}.>"]}
    load_and_validate(yaml.safe_dump({"key_value": [kv], "object_stores": [store], "streams": [stream]},
                                     allow_unicode=True))


NAMES = st.sampled_from(["a", "b", "c_1", "D-2"])
BUCKET_FIELDS = {
    "description": st.text(max_size=5), "ttl": st.sampled_from([0, "100ms", "1s", "90s", "1h", "30d"]),
    "max_bytes": st.sampled_from([-1, 0, 1, "1GiB"]), "storage": st.sampled_from(["file", "memory"]),
    "replicas": st.integers(1, 5), "compression": st.sampled_from([True, False, "s2", "none"]),
    "allow_direct": st.booleans(), "metadata": st.dictionaries(st.sampled_from(["k", "_nats.x"]), st.text(max_size=3)),
    "placement": st.fixed_dictionaries({}, optional={"cluster": st.sampled_from(["", "c"]),
                                                     "tags": st.lists(st.sampled_from(["t", "u"]), max_size=2)}),
}
KV_FIELDS = {
    **BUCKET_FIELDS, "history": st.integers(1, 64), "max_value_size": st.sampled_from([-1, 1, "1KiB"]),
    "limit_marker_ttl": st.sampled_from([0, "1s", "10m"]), "mirror": NAMES, "sources": st.lists(NAMES, max_size=3),
    "republish": st.fixed_dictionaries({"dest": st.sampled_from(["re.>", "x.y"])},
                                       optional={"src": st.sampled_from([">", "$KV.a.>"]),
                                                 "headers_only": st.booleans()}),
    "entries": st.dictionaries(st.sampled_from(["k", "a/b", "x.y"]), st.text(max_size=3), max_size=2),
}


@CHECKS
@given(key_value=st.lists(st.fixed_dictionaries({"bucket": NAMES}, optional=KV_FIELDS), max_size=3),
       object_stores=st.lists(st.fixed_dictionaries({"bucket": NAMES}, optional=BUCKET_FIELDS), max_size=3))
def test_valid_looking_buckets_read_back_from_their_streams(key_value, object_stores):
    load_and_validate(yaml.safe_dump({"key_value": key_value, "object_stores": object_stores}, allow_unicode=True))


@CHECKS
@given(api=st.text(alphabet="$JS.API*> \x00é", max_size=12), deliver=st.text(alphabet="dl.*> \te", max_size=8))
def test_external_api_and_deliver_prefixes(api, deliver):
    external = {"api": api, "deliver": deliver}
    streams = [{"name": "M", "mirror": {"name": "O", "external": external}},
               {"name": "S", "subjects": ["s.>"], "sources": [{"name": "O", "external": external}]}]
    load_and_validate(yaml.safe_dump({"streams": streams}, allow_unicode=True))
