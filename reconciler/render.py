"""Render a Plan as text (terraform-like), JSON (versioned, documented) or Markdown (a PR comment).

Works for any planner's changes (JetStream, Postgres): it only reads the Plan value.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from .plan import CREATE, DELETE, DRIFT, REPLACE, UNMANAGED, UPDATE, Change, Plan

SYMBOLS = {CREATE: "+", UPDATE: "~", REPLACE: "-/+", DELETE: "-", UNMANAGED: "#", DRIFT: "!"}
COLOURS = {CREATE: "green", UPDATE: "yellow", REPLACE: "red", DELETE: "red", UNMANAGED: "bright_black",
           DRIFT: "magenta"}
ORDER = [CREATE, UPDATE, REPLACE, DELETE]


def show(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True, default=str)


def summary(plan: Plan) -> str:
    counts = Counter(c.action for c in plan.changes)
    note_counts = Counter(c.action for c in plan.changes if not c.changes_something)  # drift, offline, unmanaged
    if not plan.pending:
        text = "No changes."
    else:
        parts = [f"{counts[a]} to {a}" for a in ORDER if counts[a]]
        parts += [f"{n} to {a}" for a, n in sorted(counts.items()) if a not in ORDER and a not in note_counts]
        text = "Plan: " + ", ".join(parts) + "."
    notes = [f"{n} {a}" for a, n in sorted(note_counts.items())]
    return text + (f" Notes: {', '.join(notes)}." if notes else "")


def _detail_lines(change: Change) -> list[str]:
    lines = [f"{d.path}: {show(d.before)} -> {show(d.after)}" for d in change.diff]
    if change.action == CREATE and change.desired and not change.diff:
        lines += [f"{k}: {show(v)}" for k, v in sorted(change.desired.items())]
    destroys = change.details.get("destroys")
    if destroys:
        lines.append("destroys: " + ", ".join(f"{k}={show(v)}" for k, v in destroys.items()))
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
    out = ["### jsctl plan", "", summary(plan), ""]
    if plan.errors:
        out += ["**Errors**", ""] + [f"- {e}" for e in plan.errors] + [""]
    if plan.changes:
        out += ["| | resource | action | why |", "| --- | --- | --- | --- |"]
        for c in plan.changes:
            why = (c.reason or "").replace("|", "\\|")
            out.append(f"| `{SYMBOLS.get(c.action, '?')}` | `{c.address}` | {c.action} | {why} |")
        detailed = [c for c in plan.changes if _detail_lines(c)]
        if detailed:
            out += ["", "<details><summary>Details</summary>", "", "```diff"]
            for c in detailed:
                out.append(f"{SYMBOLS.get(c.action, '?')} {c.address}")
                out += [f"    {line}" for line in _detail_lines(c)]
            out += ["```", "", "</details>"]
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
