"""A Plan as a pull-request comment: where it applies, destructive changes first, a summary table with why
each change is made, one collapsible section per change, and the unmanaged resources in one block."""

from __future__ import annotations

import html
from itertools import groupby
from typing import Any

from ...terminal import printable_lines
from ..address import DATABASE
from ..model import Action, Change, Plan
from ..policy import why_destructive
from . import database
from .common import field_lines, flags, named, readable, shown_diff, shown_value, summary, target

FIELDS_IN_WHY = 4  # fields named in the table's "why" of an update; its section shows them all
SHORT_VALUE = 24  # values up to this long are shown there too


def render_markdown(plan: Plan, heading: str = "### jsctl plan") -> str:
    out = [heading, ""]
    where = _target_line(plan.context)
    if where:
        out += [where, ""]
    out += caution([("", c) for c in plan.destructive])
    out += [summary(plan), ""]
    if plan.errors:
        out += ["**Errors**", ""] + [f"- {e}" for e in plan.errors] + [""]
    listed = [c for c in plan.changes if c.action != Action.UNMANAGED]
    if listed:
        out += ["| | resource | action | why |", "| --- | --- | --- | --- |"]
        for c in listed:
            why = _why(c).replace("|", "\\|")
            out.append(f"| `{c.action.symbol}` | `{c.address}` | {c.action} | {why} |")
        for c in listed:
            reason = f" ({html.escape(c.reason)})" if c.reason else ""
            out += ["", f"<details><summary><code>{c.action.symbol} {html.escape(c.address)}</code> "
                        f"{c.action}{reason}{html.escape(flags(c))}</summary>", ""]
            out += _body(c)
            out += ["", "</details>"]
    out += _unmanaged_block([c for c in plan.changes if c.action == Action.UNMANAGED])
    return printable_lines(out) + "\n"  # names come from live servers too


def caution(destructive: list[tuple[str, Change]]) -> list[str]:
    """The block that opens a comment with destructive changes, each after its ``where`` (an environment's
    name and a colon, or nothing)."""
    if not destructive:
        return []
    out = ["> [!CAUTION]", f"> **{len(destructive)} destructive change(s)**: they lose messages or state, "
           "and apply needs `--allow-destructive`."]
    out += [f"> - {where}`{c.address}` {c.action}: {html.escape(why_destructive(c))}" for where, c in destructive]
    return [*out, ""]


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def _target_line(context: dict[str, Any]) -> str | None:
    """``**Target:** NATS server `n1` (nats-server 2.12.8), account `APP`; database `postgresql://...```."""
    where = target(context)
    parts = []
    name = ("cluster", where["cluster"]) if "cluster" in where else ("server", where.get("server"))
    if name[1]:
        version = (context.get("nats") or {}).get("server_version")
        account = f", account {_code(where['account'])}" if "account" in where else ""
        domain = f", JetStream domain {_code(where['domain'])}" if "domain" in where else ""
        parts.append(f"NATS {name[0]} {_code(name[1])} (nats-server {html.escape(str(version))}){account}{domain}")
    if "database" in where:
        parts.append(f"database {_code(where['database'])}")
    return f"**Target:** {'; '.join(parts)}" if parts else None


def _why(change: Change) -> str:
    """The table's "why": what an update changes (its fields, with short values), its reason, its risk flags."""
    parts = [_changed_fields(change)] if change.action == Action.UPDATE else []
    parts += [change.reason] if change.reason else []
    return html.escape("; ".join(p for p in parts if p) + flags(change), quote=False)


def _changed_fields(change: Change) -> str:
    value, name = readable(change.address.kind), named(change.address.kind)
    fields = []
    diff = shown_diff(change)
    for d in diff[:FIELDS_IN_WHY]:
        before, after = shown_value(change, value, d.path, d.before), shown_value(change, value, d.path, d.after)
        short = len(before) <= SHORT_VALUE and len(after) <= SHORT_VALUE
        if change.details.sensitive:  # one placeholder says it: a value never shown
            fields.append(f"{name(d.path)} {before}")
        else:
            fields.append(f"{name(d.path)} {before} → {after}" if short else name(d.path))
    more = len(diff) - FIELDS_IN_WHY
    return ", ".join(fields) + (f" and {more} more" if more > 0 else "")


def _unmanaged_block(notes: list[Change]) -> list[str]:
    """Resources in the account that no manifest declares, in one collapsed block, by reason."""
    if not notes:
        return []
    out = ["", f"<details><summary>{len(notes)} unmanaged resource{'s' if len(notes) != 1 else ''} "
               "(in the account, not in the manifests)</summary>", ""]
    for reason, group in groupby(sorted(notes, key=lambda c: (c.reason or "", c.address)), key=lambda c: c.reason):
        out.append(f"- {html.escape(reason or 'not in the manifests')}: "
                   + ", ".join(f"`{c.address}`" for c in group))
    return [*out, "", "</details>"]


def _body(change: Change) -> list[str]:
    if change.address.target == DATABASE and change.action == Action.UPGRADE:
        return database.markdown_lines(change)
    body = field_lines(change, as_diff=True)
    return ["```diff", *body, "```"] if body else ["No field changes."]
