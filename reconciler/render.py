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
    Change,
    Plan,
)

SYMBOLS = {CREATE: "+", UPDATE: "~", REPLACE: "-/+", DELETE: "-", ADOPT: "*", UNMANAGED: "#", DRIFT: "!", OFFLINE: "?"}
COLOURS = {CREATE: "green", UPDATE: "yellow", REPLACE: "red", DELETE: "red", ADOPT: "cyan", UNMANAGED: "bright_black",
           DRIFT: "magenta", OFFLINE: "magenta"}
ORDER = [CREATE, UPDATE, REPLACE, DELETE]  # then other changing actions (adopt, upgrade) by name


_encode = json.JSONEncoder(sort_keys=True, default=str).encode  # json.dumps with options makes one per call


def show(value: Any) -> str:
    return "(none)" if value is None else _encode(value)


def summary(plan: Plan) -> str:
    counts = Counter(c.action for c in plan.changes)
    if not plan.pending:
        text = "No changes."
    else:
        actions = ORDER + sorted(CHANGING_ACTIONS - set(ORDER))
        text = "Plan: " + ", ".join(f"{counts[a]} to {a}" for a in actions if counts[a]) + "."
    notes = [f"{counts[a]} {a}" for a in sorted(NOTE_ACTIONS) if counts[a]]
    return text + (f" Notes: {', '.join(notes)}." if notes else "")


def _detail_lines(change: Change, *, as_diff: bool = False) -> list[str]:
    """What a change does, one line per field: ``path: before -> after``, or as ```diff lines
    (``- path: before`` / ``+ path: after``) for Markdown."""
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


def render_text(plan: Plan) -> str:
    out = []
    nats = plan.context.get("nats")
    if nats:
        out.append(f"JetStream: nats-server {nats.get('server_version')} (API level {nats.get('api_level')})")
    for change in plan.changes:
        symbol = SYMBOLS.get(change.action, "?")
        head = f"{symbol:>3} {change.address}  {change.action}" + (f" ({change.reason})" if change.reason else "")
        out.append(click.style(head, fg=COLOURS.get(change.action)))
        out += [f"      {line}" for line in _detail_lines(change)]
    out += [f"error: {e}" for e in plan.errors]
    out.append(summary(plan))
    return "\n".join(out)


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
        out += [f"> - `{c.address}` {c.action}" + (f": {html.escape(c.reason)}" if c.reason else "")
                for c in destructive]
        out.append("")
    out += [summary(plan), ""]
    if plan.errors:
        out += ["**Errors**", ""] + [f"- {e}" for e in plan.errors] + [""]
    if plan.changes:
        out += ["| | resource | action | why |", "| --- | --- | --- | --- |"]
        for c in plan.changes:
            why = html.escape(c.reason or "").replace("|", "\\|")
            out.append(f"| `{SYMBOLS.get(c.action, '?')}` | `{c.address}` | {c.action} | {why} |")
        for c in plan.changes:
            reason = f" ({html.escape(c.reason)})" if c.reason else ""
            out += ["", f"<details><summary><code>{SYMBOLS.get(c.action, '?')} {html.escape(c.address)}</code> "
                        f"{c.action}{reason}</summary>", ""]
            body = _detail_lines(c, as_diff=True)
            out += ["```diff", *body, "```"] if body else ["No field changes."]
            out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _render_prometheus(plan: Plan) -> str:
    from .render_prometheus import render_prometheus

    return render_prometheus(plan, time.time())


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown,
             "prometheus": _render_prometheus}
