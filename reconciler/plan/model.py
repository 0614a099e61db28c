"""The plan: an ordered list of changes, a plain serializable value.

Rendering and applying both consume a Plan; neither recomputes it. JetStream and Postgres
planners each produce Changes; the CLI joins them into one Plan (one plan, one apply, one exit code).
The JSON form (``Plan.to_dict``) is documented in the README and versioned by ``FORMAT_VERSION``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1

# Actions that change something when applied.
CREATE, UPDATE, REPLACE, DELETE, ADOPT, UPGRADE = "create", "update", "replace", "delete", "adopt", "upgrade"
# Notes: shown in the plan, never executed.
UNMANAGED, DRIFT = "unmanaged", "drift"
OFFLINE = "offline"  # the server lists it but cannot read it (on a cluster: its replicas are down)

CHANGING_ACTIONS = frozenset({CREATE, UPDATE, REPLACE, DELETE, ADOPT, UPGRADE})
NOTE_ACTIONS = frozenset({UNMANAGED, DRIFT, OFFLINE})


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any


@dataclass
class Change:
    """One resource's change. ``address`` follows the README: ``stream/NAME``, ``db/table/NAME``, ..."""

    address: str
    action: str
    diff: list[FieldChange] = field(default_factory=list)
    destructive: bool = False
    reason: str | None = None  # why: e.g. which field forces a replace
    details: dict[str, Any] = field(default_factory=dict)  # e.g. what a replace destroys, SQL, risk flags
    desired: dict[str, Any] | None = None  # what apply sends (a config, a revision id); None for deletes/notes

    @property
    def changes_something(self) -> bool:
        return self.action in CHANGING_ACTIONS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        diff = [FieldChange(**d) for d in data.get("diff", [])]
        return cls(**{**data, "diff": diff})


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # server identity/versions, database revision...

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.changes_something]

    @property
    def has_changes(self) -> bool:
        """True when applying would change something or live state drifted (exit 2 for --detailed-exitcode)."""
        return any(c.changes_something or c.action == DRIFT for c in self.changes)

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "changes": [c.to_dict() for c in self.changes],
            "errors": list(self.errors),
            "context": self.context,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls([Change.from_dict(c) for c in data.get("changes", [])], list(data.get("errors", [])),
                   dict(data.get("context", {})))
