"""Text rendering of the database part of a plan: revisions with their SQL and risk flags, drift."""

from __future__ import annotations

from ..plan import ADOPT, DRIFT, UPGRADE, Change, Plan

_SYMBOL = {UPGRADE: "~", ADOPT: "+", DRIFT: "!"}


def render_change(change: Change) -> list[str]:
    flags = change.details.get("flags") or []
    head = f"{_SYMBOL.get(change.action, '?')} {change.address}: {change.action}"
    head += f" — {change.reason}" if change.reason else ""
    head += f"  [{', '.join(flags)}]" if flags else ""
    return [head, *(f"    {line}" for line in detail_lines(change))]


def detail_lines(change: Change) -> list[str]:
    """What a reviewer reads under a database change: field differences, the revision's SQL, its risks."""
    lines = []
    for field in change.diff:
        lines.append(f"{field.path}: {field.before!r} (live) -> {field.after!r} (expected)")
    if change.action == UPGRADE:
        lines.append(f"from revision {change.details.get('from') or '(empty database)'} ({change.details.get('file')})")
        lines.extend(f"| {line}".rstrip() for line in (change.details.get("sql") or "-- no SQL").splitlines())
        for risk in change.details.get("risks", []):
            lines.append(f"risk: {risk['sql'].splitlines()[0]}")
            lines.extend(f"  {note}" for note in risk["notes"])
    return lines


def render_text(plan: Plan) -> str:
    context = plan.context
    lines = [f"Database {context.get('database')}: at revision {context.get('database_revision') or '(none)'}, "
             f"head {context.get('database_head') or '(none)'}"]
    changes = [c for c in plan.changes if c.address.startswith("db")]
    for change in changes:
        lines.append("")
        lines.extend(render_change(change))
    upgrades = sum(c.action in (UPGRADE, ADOPT) for c in changes)
    drift = sum(c.action == DRIFT for c in changes)
    lines.append("")
    lines.append(f"Database plan: {upgrades} revision(s) to apply, {drift} drift note(s)"
                 if changes else "Database plan: no changes, the database matches schema.yaml")
    return "\n".join(lines)
