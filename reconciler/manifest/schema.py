"""The manifest JSON Schema shipped in the package, compiled once, and its errors in plain words."""

from __future__ import annotations

import difflib
import functools
import json
import re
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Any

from .units import DURATION_PATTERN, SIZE_PATTERN, UnitError, parse_duration, parse_size, unit_fields

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

SCHEMA_RESOURCE = "schemas/manifest.schema.json"
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@functools.cache
def manifest_schema() -> dict[str, Any]:
    return json.loads(resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"))


@functools.cache
def unit_table() -> dict[str, dict]:
    """Per kind ("stream"/"consumer"): field path -> "duration"/"size", as the schema declares them."""
    return {kind: unit_fields(manifest_schema(), kind) for kind in ("stream", "consumer")}


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


@functools.cache
def manifest_validator() -> Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    formats = FormatChecker(formats=())
    formats.checks("date-time")(is_rfc3339)
    return Draft202012Validator(manifest_schema(), format_checker=formats)


def schema_errors(value: Any) -> list[tuple[tuple, str, bool]]:
    """(path, message, points at the key) for each way ``value`` breaks the schema."""
    found: list[tuple[tuple, str, bool]] = []
    for error in manifest_validator().iter_errors(value):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            patterns = [re.compile(pattern) for pattern in error.schema.get("patternProperties", {})]
            extras = {key for key in error.instance if key not in known
                      and not any(p.search(str(key)) for p in patterns)}
            for extra in sorted(extras, key=str):
                found.append(((*path, extra), f"unknown field {extra!r}{did_you_mean(str(extra), known)}", True))
        else:
            found.append((path, describe(error), False))
    return found


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
        return f"expected {wanted}, got {_kind_of(value)}"
    if rule == "enum":
        choices = [str(choice) for choice in expected]
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
        return f"{value!r} is not an RFC 3339 time (e.g. 2025-01-31T12:00:00Z)"
    return error.message


def _pattern_message(value: str, pattern: str) -> str:
    parse = {DURATION_PATTERN: parse_duration, SIZE_PATTERN: parse_size}.get(pattern)
    if parse:
        try:
            parse(value)
        except UnitError as exc:
            return str(exc)
    if pattern == manifest_schema()["$defs"]["name"]["pattern"]:
        return f"invalid name {value!r}: names are used in API subjects and must not contain whitespace, " \
               "'.', '*', '>', '/' or '\\'"
    return f"{value!r} does not match {pattern}"
