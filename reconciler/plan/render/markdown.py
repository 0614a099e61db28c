"""A Plan as a pull-request comment: destructive changes first, a summary table, one collapsible section
per resource."""

from __future__ import annotations

import html

from ...terminal import printable_lines
from ..address import DATABASE
from ..model import Action, Change, Plan
from ..policy import why_destructive
from . import database
from .common import field_lines, flags, summary


def render_markdown(plan: Plan) -> str:
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
            why = html.escape((c.reason or "") + flags(c)).replace("|", "\\|")
            out.append(f"| `{c.action.symbol}` | `{c.address}` | {c.action} | {why} |")
        for c in plan.changes:
            reason = f" ({html.escape(c.reason)})" if c.reason else ""
            out += ["", f"<details><summary><code>{c.action.symbol} {html.escape(c.address)}</code> "
                        f"{c.action}{reason}{html.escape(flags(c))}</summary>", ""]
            out += _body(c)
            out += ["", "</details>"]
    return printable_lines(out) + "\n"  # names come from live servers too


def _body(change: Change) -> list[str]:
    if change.address.target == DATABASE and change.action == Action.UPGRADE:
        return database.markdown_lines(change)
    body = field_lines(change, as_diff=True)
    return ["```diff", *body, "```"] if body else ["No field changes."]
