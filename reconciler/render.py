"""Render a Plan as text (terraform-like), JSON (versioned, documented) or Markdown (a PR comment).

Works for any planner's changes (JetStream, Postgres): it only reads the Plan value.
"""

from __future__ import annotations

import html
import json
import time
from collections import Counter
from typing import Any

import click

from .plan import (
    ADOPT,
    CHANGING_ACTIONS,
    CREATE,
    DELETE,
    DRIFT,
    NOTE_ACTIONS,
    OFFLINE,
    REPLACE,
    UNMANAGED,
    UPDATE,
    UPGRADE,
    Change,
    Plan,
)
from .reconcile import is_database, why_destructive

SYMBOLS = {CREATE: "+", UPDATE: "~", REPLACE: "-/+", DELETE: "-", ADOPT: "*", UPGRADE: "~", UNMANAGED: "#",
           DRIFT: "!", OFFLINE: "?"}
COLOURS = {CREATE: "green", UPDATE: "yellow", REPLACE: "red", DELETE: "red", ADOPT: "cyan", UPGRADE: "yellow",
           UNMANAGED: "bright_black", DRIFT: "magenta", OFFLINE: "magenta"}
ORDER = [CREATE, UPDATE, REPLACE, DELETE]  # then other changing actions (adopt, upgrade) by name


_encode = json.JSONEncoder(sort_keys=True, default=str).encode  # json.dumps with options makes one per call
# What _encode writes for these types, without its per-call set-up (a plan shows 30,000 values at 1,000 x 4)
_SCALARS = {str: json.encoder.encode_basestring_ascii, int: int.__repr__, bool: lambda v: "true" if v else "false"}


def show(value: Any) -> str:
    if value is None:
        return "(none)"
    scalar = _SCALARS.get(type(value))
    return scalar(value) if scalar else _encode(value)


def summary(plan: Plan) -> str:
    counts = Counter(c.action for c in plan.changes)
    parts = []
    if plan.pending:
        actions = ORDER + sorted(CHANGING_ACTIONS - set(ORDER))
        parts.append("Plan: " + ", ".join(f"{counts[a]} to {a}" for a in actions if counts[a]) + ".")
    elif not plan.errors:  # with errors, nothing is known to be in sync
        parts.append("No changes.")
    if plan.errors:
        n = len(plan.errors)
        parts.append(f"{n} error{'s' if n > 1 else ''}: nothing can be applied until "
                     f"{'they are' if n > 1 else 'it is'} fixed.")
    notes = [f"{counts[a]} {a}" for a in sorted(NOTE_ACTIONS) if counts[a]]
    return " ".join(parts) + (f" Notes: {', '.join(notes)}." if notes else "")


def _flags(change: Change) -> str:
    """Risk flags a reviewer needs (database revisions: destructive, rewrite, long-lock, ...)."""
    flags = change.details.get("flags") or []
    return f"  [{', '.join(flags)}]" if flags else ""


def _head(change: Change) -> str:
    return f"{change.address}  {change.action}" + (f" ({change.reason})" if change.reason else "") + _flags(change)


def _detail_lines(change: Change, *, as_diff: bool = False) -> list[str]:
    """What a change does, one line per field: ``path: before -> after``, or as ```diff lines
    (``- path: before`` / ``+ path: after``) for Markdown. Database changes: db/render.py."""
    if is_database(change) and not as_diff:
        from .db.render import detail_lines

        return detail_lines(change)
    from .jetstream.units import display_units

    readable = display_units(change.address) or (lambda path, value: value)  # JSON keeps the raw integers

    def field(path: str, value: Any) -> str:
        return f"{path}: {show(readable(path, value))}"

    lines = []
    for d in change.diff:
        if not as_diff:
            lines.append(f"{field(d.path, d.before)} -> {show(readable(d.path, d.after))}")
            continue
        lines += [f"- {field(d.path, d.before)}"] if d.before is not None else []
        lines += [f"+ {field(d.path, d.after)}"] if d.after is not None else []
    added, note = ("+ ", "  ") if as_diff else ("", "")
    if change.action == CREATE and change.desired and not change.diff:
        lines += [f"{added}{field(k, v)}" for k, v in sorted(change.desired.items())]
    destroys = change.details.get("destroys")
    if destroys:
        lines.append(f"{note}destroys: " + ", ".join(f"{k}={show(v)}" for k, v in destroys.items()))
    return lines


def _database_heading(context: dict[str, Any]) -> str:
    return (f"Database {context.get('database')}: at revision {context.get('database_revision') or '(none)'}, "
            f"head {context.get('database_head') or '(none)'}")


def render_text(plan: Plan) -> str:
    out = []
    nats = plan.context.get("nats")
    if nats:
        out.append(f"JetStream: nats-server {nats.get('server_version')} (API level {nats.get('api_level')})")
    database = [c for c in plan.changes if is_database(c)]
    for change in [c for c in plan.changes if not is_database(c)]:
        out += _text_change(change)
    if "database" in plan.context:
        out.append(_database_heading(plan.context))
    for change in database:
        out += _text_change(change)
    out += [f"error: {e}" for e in plan.errors]
    out.append(summary(plan))
    return "\n".join(out)


def _text_change(change: Change) -> list[str]:
    symbol = SYMBOLS.get(change.action, "?")
    colour = "red" if change.destructive else COLOURS.get(change.action)
    head = click.style(f"{symbol:>3} {_head(change)}", fg=colour)
    return [head, *(f"      {line}" for line in _detail_lines(change))]


def render_json(plan: Plan) -> str:
    data = plan.to_dict()
    data["summary"] = dict(Counter(c.action for c in plan.changes))
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def render_markdown(plan: Plan) -> str:
    """A pull-request comment: destructive changes first, a summary table, one collapsible section per resource."""
    out = ["### jsctl plan", ""]
    destructive = plan.destructive
    if destructive:
        out += ["> [!CAUTION]", f"> **{len(destructive)} destructive change(s)**: they lose messages or state, "
                "and apply needs `--allow-destructive`."]
        out += [f"> - `{c.address}` {c.action}: {html.escape(why_destructive(c))}" for c in destructive]
        out.append("")
    out += [summary(plan), ""]
    if plan.errors:
        out += ["**Errors**", ""] + [f"- {e}" for e in plan.errors] + [""]
    if plan.changes:
        out += ["| | resource | action | why |", "| --- | --- | --- | --- |"]
        for c in plan.changes:
            why = html.escape((c.reason or "") + _flags(c)).replace("|", "\\|")
            out.append(f"| `{SYMBOLS.get(c.action, '?')}` | `{c.address}` | {c.action} | {why} |")
        for c in plan.changes:
            reason = f" ({html.escape(c.reason)})" if c.reason else ""
            out += ["", f"<details><summary><code>{SYMBOLS.get(c.action, '?')} {html.escape(c.address)}</code> "
                        f"{c.action}{reason}{html.escape(_flags(c))}</summary>", ""]
            out += _markdown_body(c)
            out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _markdown_body(change: Change) -> list[str]:
    if is_database(change) and change.action == UPGRADE:
        from .db.render import markdown_lines

        return markdown_lines(change)
    body = _detail_lines(change, as_diff=True)
    return ["```diff", *body, "```"] if body else ["No field changes."]


def _render_prometheus(plan: Plan) -> str:
    from .render_prometheus import render_prometheus

    return render_prometheus(plan, time.time())


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown,
             "prometheus": _render_prometheus}
