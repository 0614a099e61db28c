"""A Plan as text, terraform-like: JetStream changes, then the database's under its heading."""

from __future__ import annotations

from typing import Any

import click

from ...terminal import printable
from ..address import DATABASE
from ..model import Action, Change, Plan
from . import database
from .common import field_lines, head, summary

COLOURS = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.REPLACE: "red", Action.DELETE: "red",
           Action.ADOPT: "cyan", Action.UPGRADE: "yellow", Action.UNMANAGED: "bright_black", Action.DRIFT: "magenta",
           Action.OFFLINE: "magenta"}
DETAIL_LINES = {DATABASE: database.detail_lines}  # by target; the others: field_lines


def _database_heading(context: dict[str, Any]) -> str:
    return (f"Database {context.get('database')}: at revision {context.get('database_revision') or '(none)'}, "
            f"head {context.get('database_head') or '(none)'}")


def render_text(plan: Plan) -> str:
    """The plan's lines, each made printable before a head is coloured (names come from live servers too)."""
    out = []
    nats = plan.context.get("nats")
    if nats:
        version, level = nats.get("server_version"), nats.get("api_level")
        domain = f", domain {nats['domain']}" if nats.get("domain") else ""
        out.append(printable(f"JetStream: nats-server {version} (API level {level}){domain}"))
    database_changes = [c for c in plan.changes if c.address.target == DATABASE]
    for change in [c for c in plan.changes if c.address.target != DATABASE]:
        out += _text_change(change)
    if "database" in plan.context:
        out.append(printable(_database_heading(plan.context)))
    for change in database_changes:
        out += _text_change(change)
    out += [printable(f"error: {e}") for e in plan.errors]
    out.append(summary(plan))
    return "\n".join(out)


def _text_change(change: Change) -> list[str]:
    colour = "red" if change.destructive else COLOURS.get(change.action)
    lines = DETAIL_LINES.get(change.address.target, field_lines)(change)
    return [click.style(printable(f"{change.action.symbol:>3} {head(change)}"), fg=colour),
            *(f"      {printable(line)}" for line in lines)]
