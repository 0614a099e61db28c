"""Durations and sizes in the units people write (``1y``, ``30s``, ``1GiB``), for export and plan text.

Which fields are durations and sizes comes from the manifest JSON Schema (manifest.schema.unit_table).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..manifest.model import CONSUMER, STREAM
from ..manifest.units import NANOS

# Largest unit first; natscli's ambiguous-looking "M" (30 days) and "w" are not written.
DURATION_UNITS = tuple((unit, NANOS[unit]) for unit in ("y", "d", "h", "m", "s", "ms", "us"))
SIZE_UNITS = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def readable(kind: str, value: int) -> int | str:
    """``31536000000000000`` -> ``"1y"``, ``1048576`` -> ``"1MiB"``; values without an exact unit stay integers."""
    units = DURATION_UNITS if kind == "duration" else SIZE_UNITS
    for unit, size in units:
        if value > 0 and value % size == 0:
            return f"{value // size}{unit}"
    return value


def with_units(value: Any, fields: dict[tuple[str, ...], str], path: tuple[str, ...] = ()) -> Any:
    """``value`` with its duration and size fields (as the manifest schema names them) made readable."""
    if isinstance(value, dict):
        return {k: with_units(v, fields, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [with_units(v, fields, (*path, "*")) for v in value]
    kind = fields.get(path)
    return readable(kind, value) if kind and isinstance(value, int) and not isinstance(value, bool) else value


def display_units(address: str) -> Callable[[str, Any], Any] | None:
    """For a JetStream address, (dotted field path, value) -> the value in readable units; else None."""
    kind = address.split("/", 1)[0]
    return _display(kind) if kind in (STREAM, CONSUMER) else None


@functools.cache
def _display(kind: str) -> Callable[[str, Any], Any]:
    from ..manifest.schema import unit_table

    fields = unit_table()[kind]
    with_unit = frozenset(path[0] for path in fields)  # top-level fields with a duration or size in them

    def display(path: str, value: Any) -> Any:
        if path.partition(".")[0] not in with_unit:  # most fields of a plan: nothing to convert
            return value
        return with_units(value, fields, tuple(path.split(".")))

    return display
