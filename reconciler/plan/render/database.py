"""How a database change reads in a plan (text.py and markdown.py draw the rest): a revision's file,
the SQL it runs and its risks; a drift note's differences, live against expected."""

from __future__ import annotations

from ..details import RevisionInfo
from ..model import Action, Change

_NONE = RevisionInfo(None, None, "")  # an upgrade without details: shown as such


def detail_lines(change: Change) -> list[str]:
    """Text lines under a database change: field differences, the revision's SQL, its risks."""
    lines = []
    for field in change.diff:
        lines.append(f"{field.path}: {field.before!r} (live) -> {field.after!r} (expected)")
    if change.action == Action.UPGRADE:
        revision = change.details.revision or _NONE
        lines.append(_origin(revision))
        lines.extend(f"| {line}".rstrip() for line in (revision.sql or "-- no SQL").splitlines())
        for risk in revision.risks:
            lines.append(f"risk: {risk.sql.splitlines()[0]}")
            lines.extend(f"  {finding}" for finding in risk.findings)
    return lines


def markdown_lines(change: Change) -> list[str]:
    """A revision in a pull-request comment: where it comes from, its SQL as a block, its risks."""
    revision = change.details.revision or _NONE
    lines = [_origin(revision) + ":", "", "```sql", *(revision.sql or "-- no SQL").splitlines(), "```"]
    for risk in revision.risks:
        lines.append(f"- `{risk.sql.splitlines()[0]}`")
        lines.extend(f"  - {finding}" for finding in risk.findings)
    return lines


def _origin(revision: RevisionInfo) -> str:
    return f"from revision {revision.from_revision or '(empty database)'} ({revision.file})"
