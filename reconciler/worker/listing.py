"""Output of the list commands (thresholds, dead letters): aligned text tables, and JSON whose numbers
are exact (``json.dumps`` knows only floats, which would round amounts)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from json.encoder import encode_basestring_ascii as json_string

from .events import amount_text


def table(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell (the first row is the header); the last is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.rjust(width) if i in right else cell.ljust(width)
                 for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))]
        lines.append("  ".join([*cells, row[-1]]).rstrip() + "\n")
    return "".join(lines)


def utc(moment: datetime | None) -> str | None:
    """``2026-12-04T21:09:56Z``: seconds, UTC, whatever the session's time zone."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(value: object) -> str:
    """One line of JSON; Decimals as exact numbers, other values as ``json.dumps`` writes them."""
    if isinstance(value, Decimal):
        return amount_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json_string(str(key))}: {dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    return json.dumps(value)


def document(key: str, items: Sequence[dict]) -> str:
    """``{"key": [...]}`` with one item per line."""
    lines = ",\n".join(f"  {dumps(item)}" for item in items)
    return f"{{{json_string(key)}: [\n{lines}\n]}}\n" if items else f"{{{json_string(key)}: []}}\n"
