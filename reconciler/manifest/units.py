"""Durations and sizes as people write them, converted to what the JetStream API takes.

Durations follow natscli (its flags parse with choria-io/fisk's ``ParseDuration``): Go's units
``ns us µs ms s m h`` plus ``d`` (24 h), ``w`` (7 d), ``M`` (30 d), ``y`` (365 d), compounds such as
``1y1d`` or ``1h30m``; a bare integer is nanoseconds, as in the API JSON. Fractions (``1.5h``) are
exact here, where natscli truncates ``d``/``w``/``M``/``y`` fractions to whole hours.

Sizes follow natscli's ``ParseStringAsBytes``: an integer is bytes, ``-1`` is unlimited, and the
suffixes ``B``, ``K``/``KB``/``KiB``, ``M``/``MB``/``MiB``, ``G``/``GB``/``GiB``, ``T``/``TB``/``TiB``
(any letter case) are all powers of 1024, so ``1KB`` = ``1KiB`` = 1024.

Which fields hold durations and sizes is written once, in the manifest JSON Schema
(``$ref: "#/$defs/duration"`` / ``"#/$defs/size"``); :func:`unit_fields` reads it from there.
The other way, :func:`with_units` writes integers back in units (export, plan text).
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Any

NANOS = {
    "ns": 1,
    "us": 1_000, "µs": 1_000, "μs": 1_000,  # micro sign and Greek mu, as Go accepts both
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3_600 * 1_000_000_000,
}
NANOS |= {"d": 24 * NANOS["h"], "D": 24 * NANOS["h"]}
NANOS |= {"w": 7 * NANOS["d"], "W": 7 * NANOS["d"], "M": 30 * NANOS["d"], "y": 365 * NANOS["d"], "Y": 365 * NANOS["d"]}

SIZE_SHIFT = {"": 0, "b": 0} | {
    suffix.lower(): shift
    for letter, shift in (("K", 10), ("M", 20), ("G", 30), ("T", 40))
    for suffix in (letter, letter + "B", letter + "iB")
}

_UNIT = "|".join(sorted(map(re.escape, NANOS), key=len, reverse=True))  # longest first: "ms" before "m"
# [0-9], not \d: in Python \d also matches other scripts' digits ("１h", "٣h"), which no Go parser reads.
_DURATION_PART = re.compile(rf"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)({_UNIT})")
DURATION_PATTERN = rf"^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)({_UNIT}))+)$"
_DURATION = re.compile(DURATION_PATTERN)
SIZE_PATTERN = r"^[ \t]*([0-9]+)[ \t]*([bB]|[kKmMgGtT]([iI]?[bB])?)?[ \t]*$"
_SIZE = re.compile(SIZE_PATTERN)


class UnitError(ValueError):
    """A duration or size string that cannot be read; the message says what is accepted."""


def parse_duration(value: int | str) -> int:
    """Nanoseconds from an integer (already nanoseconds) or a natscli duration string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _duration_text(str(value))


@functools.lru_cache(maxsize=4096)  # manifests repeat the same few values thousands of times
def _duration_text(text: str) -> int:
    if not _DURATION.fullmatch(text):  # fullmatch: "$" alone lets a final newline through
        raise UnitError(f"invalid duration {text!r}: use integer nanoseconds or a number with a unit "
                        "(ns, us, ms, s, m, h, d, w, M=30d, y=365d), e.g. 30s, 1h30m, 1y")
    try:
        total = sum(Fraction(number) * NANOS[unit] for number, unit in _DURATION_PART.findall(text))
    except ValueError:  # more digits than Python converts (4,300)
        raise UnitError(f"invalid duration {text!r}: too many digits") from None
    nanos = int(total)  # truncates sub-nanosecond remainders, as Go does
    if total and not nanos:
        raise UnitError(f"duration {text!r} is less than 1ns: it would be 0, which the server reads as unset "
                        "(no limit)")
    return nanos


def parse_size(value: int | str) -> int:
    """Bytes from an integer (``-1`` = unlimited) or a natscli size string like ``512MB`` (1024-based)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _size_text(str(value))


@functools.lru_cache(maxsize=4096)
def _size_text(value: str) -> int:
    match = _SIZE.fullmatch(value)
    if not match:
        raise UnitError(f"invalid size {value!r}: use integer bytes (-1 = unlimited) or a whole number with "
                        "B, K/KB/KiB, M/MB/MiB, G/GB/GiB or T/TB/TiB (all 1024-based), e.g. 512MB")
    try:
        number = int(match[1])
    except ValueError:  # more digits than Python converts (4,300)
        raise UnitError(f"invalid size {value!r}: too many digits") from None
    return number << SIZE_SHIFT[(match[2] or "").lower()]


PARSERS = {"duration": parse_duration, "size": parse_size}

FieldPath = tuple[str, ...]  # "*" stands for every item of a list


def unit_fields(schema: dict[str, Any], definition: str) -> dict[FieldPath, str]:
    """The duration and size fields of ``$defs[definition]`` in the manifest schema: path -> "duration"/"size"."""
    found: dict[FieldPath, str] = {}

    def walk(node: dict[str, Any], path: FieldPath) -> None:
        ref = node.get("$ref", "")
        kind = ref.rsplit("/", 1)[-1]
        if kind in PARSERS:
            found[path] = kind
            return
        if ref:
            walk(schema["$defs"][kind], path)
        for name, child in node.get("properties", {}).items():
            walk(child, (*path, name))
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*path, "*"))

    walk(schema["$defs"][definition], ())
    return found


def values_at(config: dict[str, Any], path: FieldPath) -> list[tuple[tuple, Any, Any]]:
    """(path written, container, key) of each value at ``path`` in ``config`` ("*": every list item)."""
    if len(path) == 1:  # most fields are at the top
        return [(path, config, path[0])] if path[0] in config else []
    found: list[tuple[tuple, Any, Any]] = []

    def walk(container: Any, path: FieldPath, at: tuple) -> None:
        head, rest = path[0], path[1:]
        keys = range(len(container)) if head == "*" and isinstance(container, list) else \
            [head] if isinstance(container, dict) and head in container else []
        for key in keys:
            if rest:
                walk(container[key], rest, (*at, key))
            else:
                found.append(((*at, key), container, key))

    walk(config, path, ())
    return found


def convert_units(config: dict[str, Any], fields: dict[FieldPath, str]) -> list[tuple[tuple, str]]:
    """Replace duration/size strings in ``config`` in place; returns (path, message) for each bad value."""
    errors: list[tuple[tuple, str]] = []
    for path, kind in fields.items():
        if path[0] not in config:  # most fields are not written: the cheapest way past them
            continue
        for at, container, key in values_at(config, path):
            try:
                container[key] = PARSERS[kind](container[key])
            except UnitError as exc:
                errors.append((at, str(exc)))
    return errors


# ------------------------------------------------------------------ integers back to units

# Largest unit first; natscli's ambiguous-looking "M" (30 days) and "w" are not written.
DURATION_UNITS = tuple((unit, NANOS[unit]) for unit in ("y", "d", "h", "m", "s", "ms", "us"))
SIZE_UNITS = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def in_unit(kind: str, value: int) -> tuple[int, str]:
    """``("size", 1048576)`` -> ``(1, "MiB")``: the largest unit ``value`` is a whole number of; ``(value, "")``
    when there is none."""
    units = DURATION_UNITS if kind == "duration" else SIZE_UNITS
    for unit, size in units:
        if value > 0 and value % size == 0:
            return value // size, unit
    return value, ""


def readable(kind: str, value: int) -> int | str:
    """``31536000000000000`` -> ``"1y"``, ``1048576`` -> ``"1MiB"``; values without an exact unit stay integers."""
    number, unit = in_unit(kind, value)
    return f"{number}{unit}" if unit else value


def with_units(value: Any, fields: dict[tuple[str, ...], str], path: tuple[str, ...] = ()) -> Any:
    """``value`` with its duration and size fields (as the manifest schema names them) made readable."""
    if isinstance(value, dict):
        return {k: with_units(v, fields, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [with_units(v, fields, (*path, "*")) for v in value]
    kind = fields.get(path)
    return readable(kind, value) if kind and isinstance(value, int) and not isinstance(value, bool) else value
