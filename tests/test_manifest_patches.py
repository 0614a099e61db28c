"""Overlays (manifest/patches.py): top-level ``patches:`` merged into declared resources by address, in
file order then list order, before validation; what a patch makes invalid is reported at the patch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import load_desired
from reconciler.manifest.load import parse_document
from reconciler.manifest.patches import merge
from reconciler.manifest.validate import validate_documents

BASE = """streams:
  - name: ORDERS
    subjects: [orders.>]
    max_age: 1d
    metadata: {team: a, owner: b}
consumers:
  - stream: ORDERS
    durable_name: C1
    ack_policy: explicit
    max_deliver: 5
    backoff: [1s, 2s]
"""


def files(tmp_path: Path, *texts: str) -> list[Path]:
    paths = []
    for index, text in enumerate(texts):
        paths.append(tmp_path / f"{index}.yaml")
        paths[-1].write_text(text)
    return paths


def errors(tmp_path: Path, *texts: str) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        load_desired(files(tmp_path, *texts))
    return [line.replace(f"{tmp_path}/", "") for line in raised.value.lines]


def test_maps_merge_lists_replace_null_removes():
    base = {"a": 1, "m": {"x": 1, "y": {"deep": 1, "keep": 2}}, "l": [1, 2], "gone": 3}
    changes = {"a": 2, "m": {"y": {"deep": None, "new": 3}, "z": 4}, "l": [9], "gone": None, "absent": None,
               "fresh": {"k": None, "v": 1}}
    written: list = []
    assert merge(base, changes, written) == {"a": 2, "m": {"x": 1, "y": {"keep": 2, "new": 3}, "z": 4}, "l": [9],
                                             "fresh": {"v": 1}}
    assert base["m"]["y"] == {"deep": 1, "keep": 2} and base["gone"] == 3  # neither input is modified
    assert ("m", "y", "deep") in written and ("fresh",) in written and ("m",) not in written


def test_a_mapping_replaces_a_value_that_is_no_mapping():
    assert merge({"m": [1]}, {"m": {"a": 1}}) == {"m": {"a": 1}}
    assert merge({"m": {"a": 1}}, {"m": "text"}) == {"m": "text"}


def test_patches_apply_in_file_order_then_list_order(tmp_path):
    desired = load_desired(files(
        tmp_path, BASE,
        "patches:\n  - {address: stream/ORDERS, set: {max_age: 1y, metadata: {owner: null, env: prod}}}\n"
        "  - {address: stream/ORDERS, set: {max_age: 2d, subjects: [orders.a, orders.b]}}\n",
        "patches:\n  - {address: stream/ORDERS, set: {max_age: 3d}}\n"
        "  - {address: consumer/ORDERS/C1, set: {max_deliver: 3, backoff: null}}\n"))
    stream = desired.streams["ORDERS"]
    assert stream.config == {"name": "ORDERS", "subjects": ["orders.a", "orders.b"], "max_age": 3 * 86_400 * 10**9,
                             "metadata": {"team": "a", "env": "prod"}}
    assert stream.origin == f"{tmp_path}/0.yaml:2:5"  # still where it was declared
    assert desired.consumers["ORDERS", "C1"].config == {"durable_name": "C1", "ack_policy": "explicit",
                                                        "max_deliver": 3}


def test_a_patch_may_precede_its_resource_and_sit_in_its_file(tmp_path):
    desired = load_desired(files(tmp_path, "patches: [{address: stream/ORDERS, set: {max_msgs: 10}}]\n",
                                 BASE + "patches: [{address: stream/ORDERS, set: {max_msgs: 20}}]\n"))
    assert desired.streams["ORDERS"].config["max_msgs"] == 20


def test_what_a_patch_makes_invalid_is_reported_at_the_patch(tmp_path):
    patch = ("patches:\n  - address: stream/ORDERS\n    set:\n      max_age: 1x\n"
             "      subjects: [orders.a, 'orders..b']\n      metadat: {}\n      metadata: {new: {nested: 1}}\n")
    assert errors(tmp_path, BASE, patch) == [
        "1.yaml:4:16: patches[0].set.max_age: invalid duration '1x': use integer nanoseconds or a number with a unit "
        "(ns, us, ms, s, m, h, d, w, M=30d, y=365d), e.g. 30s, 1h30m, 1y",
        "1.yaml:6:7: patches[0].set.metadat: unknown field 'metadat' (did you mean 'metadata'?)",
        "1.yaml:7:23: patches[0].set.metadata.new: expected a string, got a mapping",
    ]
    patch = "patches:\n  - address: stream/ORDERS\n    set: {subjects: [orders.a, 'orders..b']}\n"
    assert errors(tmp_path, BASE, patch) == ["1.yaml:3:32: patches[0].set.subjects[1]: subject 'orders..b' has an "
                                             "empty token (leading, trailing or double '.')"]


def test_other_problems_of_a_patched_resource_name_the_patch(tmp_path):
    lines = errors(tmp_path, BASE, "patches:\n  - {address: consumer/ORDERS/C1, set: {max_deliver: 1}}\n")
    assert len(lines) == 1 and lines[0].startswith("0.yaml:11:14: consumers[0].backoff: backoff has 2 delays")
    assert lines[0].endswith(" (patched at 1.yaml:2:5)")


def test_a_patch_naming_no_declared_resource_is_located(tmp_path):
    lines = errors(tmp_path, BASE, "patches:\n  - {address: stream/ORDER, set: {max_age: 1y}}\n"
                                   "  - {address: db/table/t, set: {}}\n  - {address: consumer/ORDERS/C2, set: {}}\n")
    assert lines[0] == ("1.yaml:2:15: patches[0].address: no declared resource has the address 'stream/ORDER' "
                        "(did you mean 'stream/ORDERS'?)")
    assert lines[1].startswith("1.yaml:3:15: patches[1].address: 'db/table/t' is no address a patch can name: "
                               "consumer/... or ")
    assert lines[2] == ("1.yaml:4:15: patches[2].address: no declared resource has the address "
                        "'consumer/ORDERS/C2' (did you mean 'consumer/ORDERS/C1'?)")


def test_the_address_fields_cannot_be_patched(tmp_path):
    assert errors(tmp_path, BASE, "patches:\n  - {address: consumer/ORDERS/C1, set: {stream: X, max_deliver: 0}}\n") \
        == ["1.yaml:2:41: patches[0].set.stream: a patch cannot set 'stream': it is part of the address "
            "consumer/ORDERS/C1"]


def test_malformed_patches_get_the_schemas_messages(tmp_path):
    assert errors(tmp_path, BASE, "patches:\n  - {adress: stream/ORDERS}\n  - {address: 3, set: []}\npatchs: []\n") == [
        "1.yaml:2:5: patches[0]: missing required field 'address', 'set'",
        "1.yaml:2:6: patches[0].adress: unknown field 'adress' (did you mean 'address'?)",
        "1.yaml:3:15: patches[1].address: expected a string, got an integer (quote it to make it text)",
        "1.yaml:3:23: patches[1].set: expected a mapping, got a list",
        "1.yaml:4:1: patchs: unknown top-level key 'patchs' (did you mean 'patches'?)",
    ]


def test_patches_take_variables(tmp_path):
    paths = files(tmp_path, BASE, "patches:\n  - address: stream/ORDERS\n    set: {num_replicas: '${replicas}'}\n"
                                  "  - address: stream/ORDERS\n    set:\n      max_msgs: ${replicas}\n")
    with pytest.raises(ManifestError, match="num_replicas: expected an integer, got a string"):
        load_desired(paths, {"replicas": 3})  # quoted: text
    paths[1].write_text("patches:\n  - address: stream/${name}\n    set:\n      num_replicas: ${replicas}\n")
    assert load_desired(paths, {"replicas": 3, "name": "ORDERS"}).streams["ORDERS"].config["num_replicas"] == 3


VALUES = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3), max_leaves=10)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.dictionaries(st.text(max_size=2), VALUES, max_size=4),
       changes=st.dictionaries(st.text(max_size=2), VALUES, max_size=4))
def test_merge_rules_hold_for_any_values(base, changes):
    assert_merged(base, changes, merge(base, changes))


def assert_merged(base: dict, changes: dict, merged: dict) -> None:
    for key, value in changes.items():
        if value is None:
            assert key not in merged
        elif isinstance(value, dict):
            inner = base.get(key)
            assert_merged(inner if isinstance(inner, dict) else {}, value, merged[key])
        else:
            assert merged[key] == value
    assert all(merged[key] == value for key, value in base.items() if key not in changes)
    assert set(merged) <= set(base) | set(changes)

ADDRESSES = st.sampled_from(["stream/ORDERS", "consumer/ORDERS/C1", "stream/", "consumer/ORDERS", "kv/X", "db/table/t",
                             "", "/", "stream/ORDERS/x", "consumer//C1"]) | st.text(max_size=12)
FIELDS = st.sampled_from(["name", "stream", "durable_name", "max_age", "subjects", "metadata", "backoff",
                          "max_deliver", "retention", "x"]) | st.text(max_size=4)
PATCHES = st.lists(st.fixed_dictionaries({"address": ADDRESSES | st.integers(),
                                          "set": st.dictionaries(FIELDS, VALUES, max_size=4) | VALUES}), max_size=4)
LINE = re.compile(r"^m\.yaml:[1-9]\d*:[1-9]\d*: \S.*: .+$")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATCHES)
def test_any_patches_end_in_success_or_located_problems(patches):
    problems = []
    documents = [parse_document(BASE, "m.yaml", problems),
                 parse_document(yaml.safe_dump({"patches": patches}, allow_unicode=True), "m.yaml", problems)]
    validate_documents(documents, problems)
    assert all(LINE.match(str(problem)) and str(problem).isprintable() for problem in problems), problems


def test_buckets_are_patched_by_their_address(tmp_path):
    paths = files(tmp_path, "key_value:\n  - bucket: B\n    history: 2\n",
                  "patches:\n  - {address: kv/B, set: {history: 5, ttl: 1h}}\n")
    assert load_desired(paths).key_value["B"].config == {"bucket": "B", "history": 5, "ttl": 3600 * 10**9}
    assert errors(tmp_path, "key_value:\n  - bucket: B\n", "patches:\n  - {address: kv/B, set: {bucket: C}}\n") == [
        "1.yaml:2:27: patches[0].set.bucket: a patch cannot set 'bucket': it is part of the address kv/B"]
