"""Who owns a stream or consumer: jsctl's marks in its metadata, written, read and judged here only.

- ``io.jsctl.managed: "true"``: jsctl created or adopted it (every jsctl version writes it);
- ``io.jsctl.owner: PROJECT``: the project that did: the id from ``--owner``, ``JSCTL_OWNER`` or
  ``project:`` in jsctl.yaml (manifest/project.py), never derived from a path.

Seen from the project planning (``Ownership.owner``), a live resource is one of ``Standing``. The
marks are metadata, not configuration: normalize.py leaves them out of every comparison (a plan never
shows them as a field change) and export out of every manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import UserError

MANAGED_KEY = "io.jsctl.managed"
MANAGED_VALUE = "true"
OWNER_KEY = "io.jsctl.owner"
MARK_KEYS = frozenset({MANAGED_KEY, OWNER_KEY})
HOW_TO_SET_OWNER = "--owner NAME, JSCTL_OWNER, or `project: NAME` in jsctl.yaml"


class Standing(Enum):
    """A live resource's owner, as the project planning sees it."""

    UNMARKED = "unmarked"  # not jsctl's (by hand, by a client): adopted when declared, never pruned
    OURS = "ours"  # this project's: pruned with --prune when no manifest declares it
    UNOWNED = "unowned"  # marked by a jsctl that recorded no owner: gets one when declared, never pruned
    OTHERS = "others"  # another project's: declaring it is a plan error unless taken over; never pruned


def is_managed(config: dict[str, Any]) -> bool:
    return (config.get("metadata") or {}).get(MANAGED_KEY) == MANAGED_VALUE


def owner_of(config: dict[str, Any]) -> str | None:
    """The project recorded as the owner of a jsctl-marked resource, or None."""
    owner = (config.get("metadata") or {}).get(OWNER_KEY) if is_managed(config) else None
    return owner if isinstance(owner, str) and owner else None


def without_marks(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k not in MARK_KEYS}


@dataclass(frozen=True)
class Ownership:
    """Who is planning: ``owner``, this project's id (None: not set; then nothing is this project's,
    so nothing is pruned), and ``from_owner``, the project whose declared resources it takes over."""

    owner: str | None = None
    from_owner: str | None = None

    def check(self, prune: bool) -> None:
        """Refuse what needs an owner: --prune (it deletes only what this project owns), --from-owner."""
        if self.owner is None and (prune or self.from_owner):
            flag = "--prune deletes only what this project owns" if prune else \
                "--from-owner hands resources to this project"
            raise UserError(f"{flag}, and no owner is set: set it with {HOW_TO_SET_OWNER}")

    def standing(self, config: dict[str, Any]) -> Standing:
        if not is_managed(config):
            return Standing.UNMARKED
        owner = owner_of(config)
        if owner is None:
            return Standing.UNOWNED
        return Standing.OURS if owner == self.owner else Standing.OTHERS

    def mark(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config apply sends: ``config`` marked as jsctl's and this project's (marks a manifest
        wrote are replaced: only --owner and jsctl.yaml say who owns it)."""
        marks = {MANAGED_KEY: MANAGED_VALUE} | ({OWNER_KEY: self.owner} if self.owner else {})
        return {**config, "metadata": without_marks(config.get("metadata") or {}) | marks}

    def whose(self) -> str:
        """How a plan names what this project's apply marks a resource as."""
        return f"managed by project {self.owner}" if self.owner else "managed"


NO_OWNER = Ownership()  # no owner set: nothing is pruned, resources other projects own are refused
