"""How a database change reads in a plan (reconciler/render.py draws the rest): a revision's file,
the SQL it runs and its risks; a drift note's differences, live against expected."""

from __future__ import annotations

from ..model import UPGRADE, Change


def detail_lines(change: Change) -> list[str]:
    """Text lines under a database change: field differences, the revision's SQL, its risks."""
    lines = []
    for field in change.diff:
        lines.append(f"{field.path}: {field.before!r} (live) -> {field.after!r} (expected)")
    if change.action == UPGRADE:
        lines.append(_origin(change))
        lines.extend(f"| {line}".rstrip() for line in (change.details.get("sql") or "-- no SQL").splitlines())
        for risk in change.details.get("risks", []):
            lines.append(f"risk: {risk['sql'].splitlines()[0]}")
            lines.extend(f"  {note}" for note in risk["notes"])
    return lines


def markdown_lines(change: Change) -> list[str]:
    """A revision in a pull-request comment: where it comes from, its SQL as a block, its risks."""
    lines = [_origin(change) + ":", "", "```sql", *(change.details.get("sql") or "-- no SQL").splitlines(), "```"]
    for risk in change.details.get("risks", []):
        lines.append(f"- `{risk['sql'].splitlines()[0]}`")
        lines.extend(f"  - {note}" for note in risk["notes"])
    return lines


def _origin(change: Change) -> str:
    return f"from revision {change.details.get('from') or '(empty database)'} ({change.details.get('file')})"
