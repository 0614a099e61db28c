"""The manifest JSON Schema against the JetStream API's own schemas (the oracle), and its unit fields."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from support import REFERENCE_SCHEMAS, REPO

from reconciler.manifest.schema import manifest_schema, unit_table
from reconciler.manifest.units import DURATION_PATTERN, SIZE_PATTERN


def reference(name: str) -> dict:
    if REFERENCE_SCHEMAS is None:
        pytest.skip("../shared/reference/jetstream-api-schemas is not beside this checkout")
    return json.loads((REFERENCE_SCHEMAS / f"{name}_configuration.json").read_text())


def resolve(node: dict) -> dict:
    """Our schema node with its $ref followed (keeping the node's own keys)."""
    ref = node.get("$ref")
    return {**manifest_schema()["$defs"][ref.rsplit("/", 1)[-1]], **node} if ref else node


def types_of(node: dict) -> set[str]:
    kind = node.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def compare(theirs: dict, ours: dict, path: str, found: list[str]) -> None:
    """Record every way ``ours`` would reject something ``theirs`` (the API schema) allows."""
    ours = resolve(ours)
    if "enum" in theirs and not set(theirs["enum"]) <= set(ours.get("enum", theirs["enum"])):
        found.append(f"{path}: enum {theirs['enum']} not all accepted")
    wanted = types_of(theirs) - {"null"}
    if wanted and not wanted <= types_of(ours):
        found.append(f"{path}: type {sorted(wanted)} vs ours {sorted(types_of(ours))}")
    their_props, our_props = theirs.get("properties", {}), ours.get("properties", {})
    for name in sorted(set(their_props) - set(our_props)):
        found.append(f"{path}.{name}: missing from our schema")
    for name in sorted(set(their_props) & set(our_props)):
        compare(their_props[name], our_props[name], f"{path}.{name}", found)
    if isinstance(theirs.get("items"), dict) and isinstance(ours.get("items"), dict):
        compare(theirs["items"], ours["items"], f"{path}[]", found)


@pytest.mark.parametrize("kind", ["stream", "consumer"])
def test_every_api_field_is_accepted(kind):
    theirs = reference(kind)
    found: list[str] = []
    compare(theirs, {"$ref": f"#/$defs/{kind}"}, kind, found)
    assert found == []
    ours = set(manifest_schema()["$defs"][kind]["properties"]) - {"stream"}
    assert ours == set(theirs["properties"]), "fields we accept that the API does not know"


def example(node: dict) -> object:
    """A value the API schema allows for ``node``."""
    if "enum" in node:
        return node["enum"][-1]
    kind = sorted(types_of(node) - {"null"})[0] if types_of(node) - {"null"} else "object"
    if kind == "object":
        return {name: example(child) for name, child in node.get("properties", {}).items()}
    if kind == "array":
        return [example(node["items"])] if isinstance(node.get("items"), dict) else []
    if kind == "string":
        return "2025-01-31T12:00:00Z" if node.get("format") == "date-time" else "x"
    return {"integer": max(node.get("minimum", 1), 1), "boolean": True}[kind]


@pytest.mark.parametrize("kind", ["stream", "consumer"])
def test_a_config_with_every_api_field_passes_the_schema(kind):
    instance = example(reference(kind))
    instance["name"] = "N"
    if kind == "consumer":
        instance.update(stream="S", durable_name="N")
        instance["sample_freq"] = "50%"  # the API schema says "a string"; the server parses a percentage
    errors = [e.message for e in Draft202012Validator(manifest_schema()).iter_errors({f"{kind}s": [instance]})]
    assert errors == []


def test_schema_is_valid_and_its_unit_patterns_are_the_parsers():
    Draft202012Validator.check_schema(manifest_schema())
    defs = manifest_schema()["$defs"]
    assert defs["duration"]["pattern"] == DURATION_PATTERN
    assert defs["size"]["pattern"] == SIZE_PATTERN


def test_unit_fields_come_from_the_schema():
    assert unit_table() == {
        "stream": {("max_bytes",): "size", ("max_age",): "duration", ("max_msg_size",): "size",
                   ("duplicate_window",): "duration", ("consumer_limits", "inactive_threshold"): "duration",
                   ("subject_delete_marker_ttl",): "duration"},
        "consumer": {("ack_wait",): "duration", ("backoff", "*"): "duration", ("max_expires",): "duration",
                     ("max_bytes",): "size", ("inactive_threshold",): "duration", ("priority_timeout",): "duration",
                     ("idle_heartbeat",): "duration"},
        "kv": {("ttl",): "duration", ("max_value_size",): "size", ("max_bytes",): "size",
               ("limit_marker_ttl",): "duration"},
        "objectstore": {("ttl",): "duration", ("max_bytes",): "size"},
    }


def test_api_duration_fields_are_ours():
    """Every field the API schema marks as nanoseconds takes our duration units."""
    for kind in ("stream", "consumer"):
        theirs = reference(kind)["properties"]
        nanos = {(name,) for name, node in theirs.items() if "nanoseconds" in node.get("$comment", "")}
        nanos |= {(name, "*") for name, node in theirs.items()
                  if "nanoseconds" in node.get("items", {}).get("$comment", "")}
        ours = {path for path, unit in unit_table()[kind].items()
                if unit == "duration" and (len(path) == 1 or path[-1] == "*")}
        assert nanos == ours, kind


def test_an_editor_using_the_schema_file_alone_accepts_the_repo_manifests():
    import yaml

    validator = Draft202012Validator(manifest_schema())
    for name in ("streams.yaml", "consumers.yaml"):
        document = yaml.safe_load((REPO / name).read_text())
        assert list(validator.iter_errors(document)) == [], name
    wrong = {"streams": [{"name": "A", "max_agee": "1y", "retention": "workqeue", "max_age": "1 year"}]}
    assert len(list(validator.iter_errors(wrong))) == 3


# The reference schemas' words for each Go type ("int" is "dynamic bit size", 64 bits where nats-server runs).
GO_TYPE_COMMENTS = {"signed 64 bit": {"int64", "time.Duration"}, "signed 32 bit": {"int32"},
                    "unsigned 64 bit": {"uint64"}, "dynamic bit size": {"int"}}


def integer_fields(node: dict, path: tuple = ()) -> dict[tuple, dict]:
    """Path -> schema node of every field of ours holding an integer once units are converted."""
    node = resolve(node)
    found = {}
    if "integer" in types_of(node):
        found[path] = node
    for name, child in node.get("properties", {}).items():
        found |= integer_fields(child, (*path, name))
    if isinstance(node.get("items"), dict):
        found |= integer_fields(node["items"], (*path, "*"))
    return found


def reference_node(schema: dict, path: tuple) -> dict | None:
    for part in path:
        schema = schema.get("items", {}) if part == "*" else schema.get("properties", {}).get(part)
        if schema is None:
            return None
    return schema


@pytest.mark.parametrize("kind", ["kv", "objectstore"])
def test_the_go_type_table_covers_every_integer_field_of_buckets(kind):
    """A bucket's integers are checked as the backing stream's fields that hold them."""
    from reconciler.manifest.gotypes import GO_TYPES

    assert set(GO_TYPES[kind]) == set(integer_fields({"$ref": f"#/$defs/{kind}"}))
    assert GO_TYPES[kind][("ttl",)] == "time.Duration" and GO_TYPES[kind][("replicas",)] == "int"


@pytest.mark.parametrize("kind", ["stream", "consumer"])
def test_the_go_type_table_covers_every_integer_field_as_the_api_types_it(kind):
    from reconciler.manifest.gotypes import GO_TYPES

    ours = integer_fields({"$ref": f"#/$defs/{kind}"})
    assert set(GO_TYPES[kind]) == set(ours)
    theirs = reference(kind)
    for path, go_type in GO_TYPES[kind].items():
        comment = (reference_node(theirs, path) or {}).get("$comment", "")
        named = [types for words, types in GO_TYPE_COMMENTS.items() if re.search(rf"\b{words}\b", comment)]
        assert not comment or (named and go_type in named[0]), (path, go_type, comment)
        if "nanoseconds" in comment:
            assert go_type == "time.Duration", path
