"""The manifest JSON Schema shipped in the package, compiled once, and its errors in plain words."""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Any

from .kvnames import bucket_name_problem
from .model import CONSUMER, KV, OBJ, STREAM
from .subjects import name_problem
from .suggest import did_you_mean
from .units import DURATION_PATTERN, SIZE_PATTERN, UnitError, parse_duration, parse_size, unit_fields, with_units

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

    from .load import Document, Problem

SCHEMA_RESOURCE = "schemas/manifest.schema.json"
SECTIONS = {"streams": STREAM, "consumers": CONSUMER, "key_value": KV, "object_stores": OBJ}  # key -> kind of its items
PATCHES = "patches"  # the other top-level key (patches.py)
TOP_LEVEL = (*SECTIONS, PATCHES)
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@functools.cache
def shipped_schema(resource: str) -> dict[str, Any]:
    """A JSON Schema shipped in the package (``schemas/NAME.json``), read once."""
    return json.loads(resources.files("reconciler").joinpath(resource).read_text(encoding="utf-8"))


@functools.cache
def shipped_validator(resource: str) -> Validator:
    """A validator of a whole document against a shipped schema (the manifests' is split for speed: _compiled)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(shipped_schema(resource))


def manifest_schema() -> dict[str, Any]:
    return shipped_schema(SCHEMA_RESOURCE)


@functools.cache
def unit_table() -> dict[str, dict]:
    """Per kind (stream, consumer, kv, objectstore): field path -> "duration"/"size", as the schema declares them."""
    return {kind: unit_fields(manifest_schema(), kind) for kind in SECTIONS.values()}


@functools.cache
def field_in_units(kind: str) -> Callable[[str, Any], Any]:
    """For a stream's or consumer's fields: (dotted path, value) -> the value as a manifest writes it,
    durations and sizes in units (``1y``, ``1GiB``), for plan text and messages."""
    fields = unit_table()[kind]
    with_unit = frozenset(path[0] for path in fields)  # top-level fields with a duration or size in them

    def display(path: str, value: Any) -> Any:
        if path.partition(".")[0] not in with_unit:  # most fields of a plan: nothing to convert
            return value
        return with_units(value, fields, tuple(path.split(".")))

    return display


def is_rfc3339(value: object) -> bool:
    """The time format the server's JSON decoder accepts (Go's time.RFC3339Nano)."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if not match:
        return not isinstance(value, str)  # formats apply to strings only; the type check covers the rest
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return hour < 24 and minute < 60 and second < 60


def _check_time(value: object) -> bool:
    if not is_rfc3339(value):
        raise ValueError(f"{value!r} is not an RFC 3339 time (e.g. 2025-01-31T12:00:00Z)")
    return True


def _text_format(problem_of: Callable[[str], str | None]) -> Callable[[object], bool]:
    """A format check of strings by a function saying what is wrong with one (None when nothing)."""
    def check(value: object) -> bool:
        problem = isinstance(value, str) and problem_of(value)
        if problem:
            raise ValueError(problem)
        return True

    return check


# The schema's formats: each function returns True, or raises ValueError with the message a user reads.
_FORMATS = {"date-time": _check_time, "jetstream-name": _text_format(name_problem),
            "bucket-name": _text_format(bucket_name_problem)}


@dataclass(frozen=True)
class _Compiled:
    """The schema split for speed: one validator for a document's top level, one for the keys of an item
    (unknown, required), and one per field. Items are checked per distinct key set and fields per distinct
    value, so 4,000 consumers sharing `ack_policy: explicit` cost one check of it, not 4,000."""

    document: Validator
    shapes: dict[str, Validator]
    fields: dict[str, dict[str, Validator]]
    type_only: dict[str, frozenset[str]]  # fields whose schema checks nothing but the JSON type


_KEY_KEYWORDS = {"type", "additionalProperties", "required", "anyOf", "title", "description"}  # depend on keys only
_ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}


@functools.cache
def _compiled() -> _Compiled:
    from jsonschema import Draft202012Validator, FormatChecker, validators

    formats = FormatChecker(formats=())
    for name, check in _FORMATS.items():
        formats.checks(name, raises=ValueError)(check)
    # Go's JSON decoder refuses 1.0 for an integer field, where JSON Schema counts it as an integer.
    strict_integers = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool))
    validator = validators.extend(Draft202012Validator, type_checker=strict_integers)

    def compile_(schema: dict[str, Any]) -> Validator:
        return validator(schema, format_checker=formats)

    schema = manifest_schema()
    # Local $refs inlined: following them costs jsonschema about half its time.
    definitions = {name: _inline_refs(node, schema["$defs"]) for name, node in schema["$defs"].items()}
    top = {key: value for key, value in schema.items() if key != "$defs"}
    top["properties"] = {section: {"type": ["array", "null"]} for section in SECTIONS}
    top["properties"][PATCHES] = _inline_refs(schema["properties"][PATCHES], schema["$defs"])  # a few: checked whole
    shapes, fields, type_only = {}, {}, {}
    for kind in SECTIONS.values():
        item = definitions[kind]
        shape = {key: value for key, value in item.items() if key in _KEY_KEYWORDS}
        shapes[kind] = compile_({**shape, "properties": dict.fromkeys(item["properties"], True)})
        fields[kind] = {name: compile_({"type": "array", "items": node}) for name, node in item["properties"].items()}
        type_only[kind] = frozenset(name for name, node in item["properties"].items()
                                    if set(node) <= {"type", *_ANNOTATIONS})
    return _Compiled(compile_(top), shapes, fields, type_only)


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    own = {key: _inline_refs(value, definitions) for key, value in node.items() if key != "$ref"}
    if "$ref" in node:
        return {**_inline_refs(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions), **own}
    return own


Found = list[tuple[tuple, str, bool]]  # (path, message, points at the key)


def schema_errors(value: Any) -> Found:
    """Every way a manifest document breaks the schema."""
    compiled = _compiled()
    found: Found = []
    for error in compiled.document.iter_errors(value):
        _add(found, error, ())
    if not isinstance(value, dict):
        return found
    for section, kind in SECTIONS.items():
        items = value.get(section)
        if isinstance(items, list):
            _item_errors(compiled, kind, section, items, found)
    return found


def _item_errors(compiled: _Compiled, kind: str, section: str, items: list[Any], found: Found) -> None:
    by_keys: dict[frozenset, list[int]] = defaultdict(list)
    by_value: dict[str, dict[Any, tuple[Any, list[int]]]] = defaultdict(dict)  # field -> value key -> (value, items)
    fields, type_only = compiled.fields[kind], compiled.type_only[kind]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            by_keys[frozenset((index,))].append(index)  # alone: the shape check reports its type
            continue
        by_keys[frozenset(item)].append(index)
        for field, field_value in item.items():
            if field in fields:
                # Under a type-only schema values of one Python type validate alike, so 4,000 distinct
                # filter subjects cost one check.
                key = type(field_value) if field in type_only else _value_key(field_value)
                by_value[field].setdefault(key, (field_value, []))[1].append(index)
    for indexes in by_keys.values():
        for error in compiled.shapes[kind].iter_errors(items[indexes[0]]):
            for index in indexes:
                _add(found, error, (section, index))
    for field, distinct in by_value.items():
        slots = list(distinct.values())
        for error in fields[field].iter_errors([field_value for field_value, _ in slots]):
            slot, *inner = error.absolute_path
            for index in slots[slot][1]:
                _add(found, error, (section, index, field), inner)


def _value_key(value: Any) -> Any:
    """Equal for values that validate alike (1 and True do not; lists and mappings compare by content,
    as JSON: loading let through nothing else, and nothing nested deeper than it allows)."""
    if isinstance(value, dict | list):
        return "json", json.dumps(value, sort_keys=True)
    return type(value), value


def _add(found: Found, error: ValidationError, prefix: tuple, inner: list | None = None) -> None:
    path = (*prefix, *(error.absolute_path if inner is None else inner))
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        patterns = [re.compile(pattern) for pattern in error.schema.get("patternProperties", {})]
        extras = {key for key in error.instance if key not in known and not any(p.search(str(key)) for p in patterns)}
        for extra in sorted(extras, key=str):
            found.append(((*path, extra), f"unknown field {extra!r}{did_you_mean(str(extra), known)}", True))
    elif not found or found[-1] != (path, describe(error), False):  # `required` fails once per field missing
        found.append((path, describe(error), False))


def document_problems(document: Document, validator: Validator,
                      explain: Callable[[ValidationError], str | None] = lambda error: None) -> list[Problem]:
    """Every way a whole document breaks a JSON Schema (schema.yaml, jsctl.yaml), in file order, worded as
    for the manifests (an unknown key with the known one it is closest to); ``explain`` words an error
    its own way, or returns None for the usual words."""
    found: Found = []
    for error in validator.iter_errors(document.value):
        message = explain(error)
        if message is None:
            _add(found, error, ())
        else:
            found.append((tuple(error.absolute_path), message, False))
    problems = [document.problem(path, message, key=at_key) for path, message, at_key in found]
    return sorted(problems, key=lambda problem: (problem.line, problem.column))


_TYPE_WORDS = {"integer": "an integer", "string": "a string", "boolean": "true or false", "array": "a list",
               "object": "a mapping", "null": "nothing"}


_UNIT_WORDS = {DURATION_PATTERN: "duration (integer nanoseconds or e.g. 30s)",
               SIZE_PATTERN: "size (integer bytes or e.g. 512MB)"}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a decimal number"}.get(
        type(value), type(value).__name__)


def describe(error: ValidationError) -> str:
    """One short sentence for a jsonschema error."""
    value, rule, expected = error.instance, error.validator, error.validator_value
    if rule == "type":
        unit = _UNIT_WORDS.get(error.schema.get("pattern", ""))
        if unit:
            return f"expected a {unit}, got {_kind_of(value)}"
        wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        # YAML reads unquoted 2024, 1.10, on, yes, ~ as numbers, booleans or null.
        texts = expected == "string" or (isinstance(expected, list) and "string" in expected)
        hint = " (quote it to make it text)" if texts and not isinstance(value, dict | list) else ""
        return f"expected {wanted}, got {_kind_of(value)}{hint}"
    if rule == "enum":
        choices = [json.dumps(choice) if isinstance(choice, bool) else str(choice) for choice in expected]
        return f"{value!r} is not one of {', '.join(map(repr, choices))}{did_you_mean(str(value), choices)}"
    if rule == "pattern":
        return _pattern_message(value, expected)
    if rule == "required":
        missing = [name for name in expected if name not in value]
        return f"missing required field {', '.join(map(repr, missing))}"
    if rule == "anyOf" and error.schema.get("title", "").startswith("A JetStream consumer"):
        return "missing required field 'durable_name' (or 'name')"
    if rule == "minimum":
        return f"{value} is less than the minimum {expected}"
    if rule == "maximum":
        return f"{value} is more than the maximum {expected}"
    if rule == "minLength":
        return "must not be empty"
    if rule == "maxLength":
        return f"longer than {expected} characters"
    if rule == "format":
        return str(error.cause)
    return error.message


def _pattern_message(value: str, pattern: str) -> str:
    parse = {DURATION_PATTERN: parse_duration, SIZE_PATTERN: parse_size}.get(pattern)
    if parse:
        try:
            parse(value)
        except UnitError as exc:
            return str(exc)
    return f"{value!r} does not match {pattern}"
