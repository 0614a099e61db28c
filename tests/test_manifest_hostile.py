"""Hostile manifests, generated: loading and validating end in success or in located problems, never in
an exception; what passes is JSON the server can decode (no NaN, no integer beyond its Go type)."""

from __future__ import annotations

import json
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.manifest.gotypes import GO_TYPES, RANGES
from reconciler.manifest.load import parse_document
from reconciler.manifest.schema import manifest_schema
from reconciler.manifest.units import values_at
from reconciler.manifest.validate import validate_documents

LINE = re.compile(r"^m\.yaml:[1-9]\d*:[1-9]\d*: \S.*: .+$")
CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_and_validate(text: str) -> None:
    problems = []
    desired = validate_documents([parse_document(text, "m.yaml", problems)], problems)
    lines = [str(problem) for problem in problems]
    assert all(LINE.match(line) and line.isprintable() for line in lines), lines
    if lines:
        return
    for kind, resources in (("stream", desired.streams), ("consumer", desired.consumers)):
        for resource in resources.values():
            json.dumps(resource.config, allow_nan=False)
            for path, go_type in GO_TYPES[kind].items():
                low, high = RANGES[go_type]
                assert all(low <= container[key] <= high for _, container, key in values_at(resource.config, path))


YAML_PIECES = st.sampled_from([
    "streams:", "consumers:", "\n", "  - ", "    ", "name: ", "subjects: ", "metadata: ", "max_age: ", "max_bytes: ",
    "stream: ", "durable_name: ", "x-a: ", "&a ", "*a", "&b ", "*b", "<<: ", "!!set ", "!!binary ", "!!omap ",
    "!custom ", "? ", ": ", "[", "]", "{", "}", ", ", "'", '"', "-", "1", "9223372036854775808", "1.0", ".nan",
    "yes", "null", "~", "1h", "0.0000000001s", "１h", "A", "a.*", ">", "\\0", "\\x01", "\t", "#", "|", ">-",
    "2025-01-31T00:00:00Z", "%", "@", "`", "\u200b", "\x85",
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
@given(api=st.text(alphabet="$JS.API*> \x00é", max_size=12), deliver=st.text(alphabet="dl.*> \te", max_size=8))
def test_external_api_and_deliver_prefixes(api, deliver):
    external = {"api": api, "deliver": deliver}
    streams = [{"name": "M", "mirror": {"name": "O", "external": external}},
               {"name": "S", "subjects": ["s.>"], "sources": [{"name": "O", "external": external}]}]
    load_and_validate(yaml.safe_dump({"streams": streams}, allow_unicode=True))
