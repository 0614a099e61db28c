"""The plan: an ordered list of changes, a plain serializable value.

Rendering and applying both consume a Plan; neither recomputes it. JetStream and Postgres
planners each produce Changes; reconcile/ joins them into one Plan (one plan, one apply, one exit
code). The JSON form (``Plan.to_dict``) is documented in docs/plan-apply.md, described by the JSON
Schema ``schemas/plan.schema.json`` and versioned by ``FORMAT_VERSION``.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from .address import Address
from .details import Details

FORMAT_VERSION = 1


class Action(str, Enum):
    """What a change does. Notes (unmanaged, drift, offline) are shown in the plan, never executed."""

    # printed and compared as their value: f"{Action.CREATE}" == "create" on every Python version
    __str__ = str.__str__
    __format__ = str.__format__

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"  # cannot be changed in place: delete + create
    DELETE = "delete"
    ADOPT = "adopt"  # declared, exists, not created by jsctl: mark it as jsctl's (or stamp a database)
    UPGRADE = "upgrade"  # a pending database revision
    UNMANAGED = "unmanaged"
    DRIFT = "drift"
    OFFLINE = "offline"  # the server lists it but cannot read it (on a cluster: its replicas are down)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self]

    @property
    def changes_something(self) -> bool:
        return self in CHANGING_ACTIONS


CHANGING_ACTIONS = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.ADOPT,
                              Action.UPGRADE})
NOTE_ACTIONS = frozenset(Action) - CHANGING_ACTIONS
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-", Action.ADOPT: "*",
           Action.UPGRADE: "~", Action.UNMANAGED: "#", Action.DRIFT: "!", Action.OFFLINE: "?"}


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any


@dataclass
class Change:
    """One resource's change. Built from typed values or from their JSON spellings (a saved plan)."""

    address: Address
    action: Action
    diff: list[FieldChange] = field(default_factory=list)
    destructive: bool = False  # set by the planner with plan/policy.py's one definition
    reason: str | None = None  # why: e.g. which field forces a replace
    details: Details = field(default_factory=Details)
    desired: dict[str, Any] | None = None  # what apply sends (a config, a revision id); None for deletes/notes

    def __post_init__(self) -> None:
        if type(self.address) is not Address:
            self.address = Address(self.address)
        if type(self.action) is not Action:
            self.action = Action(self.action)
        if isinstance(self.details, dict):
            self.details = Details.from_dict(self.details)

    @property
    def changes_something(self) -> bool:
        return self.action.changes_something

    def to_dict(self) -> dict[str, Any]:
        return {"address": str(self.address), "action": self.action.value, "diff": [asdict(d) for d in self.diff],
                "destructive": self.destructive, "reason": self.reason, "details": self.details.to_dict(),
                "desired": copy.deepcopy(self.desired)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        """Raises ValueError (or KeyError, TypeError) for a misshapen spelling: a hand-edited saved plan."""
        _check_shapes(data, _CHANGE_SHAPES, "a change's")
        _check_shapes(data["details"] if isinstance(data.get("details"), dict) else {}, _DETAILS_SHAPES,
                      "a change's details.")
        if not all(isinstance(d, dict) and isinstance(d.get("path"), str) for d in data.get("diff", [])):
            raise ValueError("a change's diff is not what jsctl records")
        # `-o json` adds what it derives from details (``sensitive``): read the recorded fields only
        diff = [FieldChange(d["path"], d["before"], d["after"]) for d in data.get("diff", [])]
        return cls(**{**{k: v for k, v in data.items() if k != "sensitive"}, "diff": diff})


_MAYBE_TEXT, _MAYBE_MAP = (str, type(None)), (dict, type(None))
_CHANGE_SHAPES = {"address": (str,), "action": (str,), "diff": (list,), "destructive": (bool,),
                  "reason": _MAYBE_TEXT, "details": (dict,), "desired": _MAYBE_MAP}
_DETAILS_SHAPES = {"message": _MAYBE_TEXT, "destroys": _MAYBE_MAP, "owner": _MAYBE_TEXT, "from": _MAYBE_TEXT,
                   "file": _MAYBE_TEXT, "sql": (str,), "risks": (list,)}
_CONTEXT_SHAPES = {"options": _MAYBE_MAP, "nats": _MAYBE_MAP, "database": _MAYBE_TEXT}


def _check_shapes(data: Any, shapes: dict[str, tuple[type, ...]], what: str) -> None:
    """Each field ``data`` holds has one of its JSON types (so a hand edit fails here, not mid-render)."""
    if not isinstance(data, dict):
        raise ValueError(f"{what.rstrip('.')} is not an object")
    for name, kinds in shapes.items():
        if name in data and not isinstance(data[name], kinds):
            raise ValueError(f"{what}{' ' if not what.endswith('.') else ''}{name} is not what jsctl records")


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
        return any(c.changes_something or c.action == Action.DRIFT for c in self.changes)

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
        _check_shapes(data.get("context", {}), _CONTEXT_SHAPES, "the plan's context.")
        return cls([Change.from_dict(c) for c in data.get("changes", [])], list(data.get("errors", [])),
                   dict(data.get("context", {})))
