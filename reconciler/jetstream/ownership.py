"""Who owns a stream or consumer: jsctl's marks in its metadata, written, read and judged here only.

- ``io.jsctl.managed: "true"``: jsctl created or adopted it (every jsctl version writes it);
- ``io.jsctl.owner: PROJECT``: the project that did: the id from ``--owner``, ``JSCTL_OWNER`` or
  ``project:`` in jsctl.yaml (manifest/project.py), never derived from a path;
- ``io.jsctl.kind: kv|objectstore``: declared as a bucket (``key_value:``, ``object_stores:``) on its
  backing stream; no kind: declared as a stream (or marked by a jsctl older than the mark). A bucket
  declared as its raw ``KV_NAME`` stream, or back, is the same stream: moving the declaration is an
  adopt that rewrites this mark, never a delete and create.

Seen from the project planning (``Ownership.owner``), a live resource is one of ``Standing``; what a
plan says about it is worded here too (``claim``, ``owned_elsewhere``, ``unmanaged_reason``), what it
does about it is the planner's (jetstream/plan.py, including ``prune_candidates``). The marks are
metadata, not configuration: normalize.py leaves them out of every comparison (a plan never shows
them as a field change) and export out of every manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import UserError
from ..plan.address import BUCKET_KINDS, KV, OBJECTSTORE, Address
from ..terminal import printable

MARK_PREFIX = "io.jsctl."  # metadata keys that are jsctl's own marks, never a user's field
MANAGED_KEY = f"{MARK_PREFIX}managed"
MANAGED_VALUE = "true"
OWNER_KEY = f"{MARK_PREFIX}owner"
KIND_KEY = f"{MARK_PREFIX}kind"
KIND_NAMES = {None: "a stream", KV.prefix: "a KV bucket", OBJECTSTORE.prefix: "an object store"}

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


def kind_of(config: dict[str, Any]) -> str | None:
    """How a jsctl-marked resource was declared when it is not as a stream: ``kv``, ``objectstore`` (None: a stream)."""
    kind = (config.get("metadata") or {}).get(KIND_KEY) if is_managed(config) else None
    return kind if isinstance(kind, str) and kind else None


def declared_kind(address: Address) -> str | None:
    """The kind mark of a resource declared at ``address``: a bucket's on its backing stream, else none."""
    return address.kind.prefix if address.kind in BUCKET_KINDS else None


def without_marks(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if not k.startswith(MARK_PREFIX)}


@dataclass(frozen=True)
class Ownership:
    """Who is planning: ``owner``, this project's id (None: not set; then nothing is this project's,
    so nothing is pruned), and ``from_owner``, the project whose declared resources it takes over."""

    owner: str | None = None
    from_owner: str | None = None

    def check(self, prune: bool, pruning: str = "--prune") -> None:
        """Refuse what needs an owner: ``pruning`` (--prune, `jsctl destroy`: it deletes only what this
        project owns), --from-owner."""
        if self.owner is None and (prune or self.from_owner):
            flag = f"{pruning} deletes only what this project owns" if prune else \
                "--from-owner hands resources to this project"
            raise UserError(f"{flag}, and no owner is set: set it with {HOW_TO_SET_OWNER}")

    def standing(self, config: dict[str, Any]) -> Standing:
        if not is_managed(config):
            return Standing.UNMARKED
        owner = owner_of(config)
        if owner is None:
            return Standing.UNOWNED
        return Standing.OURS if owner == self.owner else Standing.OTHERS

    def mark(self, config: dict[str, Any], address: Address) -> dict[str, Any]:
        """The config apply sends for the resource declared at ``address``: ``config`` marked as jsctl's,
        this project's and, for a bucket, as declared (marks a manifest wrote are replaced: only --owner
        and jsctl.yaml say who owns it)."""
        kind = declared_kind(address)
        marks = {MANAGED_KEY: MANAGED_VALUE} | ({OWNER_KEY: self.owner} if self.owner else {}) | \
            ({KIND_KEY: kind} if kind else {})
        return {**config, "metadata": without_marks(config.get("metadata") or {}) | marks}

    def whose(self) -> str:
        """How a plan names what this project's apply marks a resource as."""
        return f"managed by project {self.owner}" if self.owner else "managed"


NO_OWNER = Ownership()  # no owner set: nothing is pruned, resources other projects own are refused


# What a plan says about ownership (jetstream/plan.py decides when).


@dataclass(frozen=True)
class Claim:
    """Why applying a declared resource makes it this project's (it was not yet): said whole for an
    adopt (metadata only), as an addition for an update; ``owner``: the project it is taken from."""

    adopt: str
    also: str
    owner: str | None = None


def claim(ownership: Ownership, live_config: dict[str, Any], address: Address) -> Claim | None:
    """What applying the resource declared at ``address`` does to its marks; None when it is this project's
    already (or, with no owner set, jsctl's without an owner, as every resource was before owners were
    recorded) and marked as the kind it is declared as."""
    standing, whose = ownership.standing(live_config), ownership.whose()
    if standing is Standing.OURS or (standing is Standing.UNOWNED and ownership.owner is None):
        return _moved(kind_of(live_config), declared_kind(address))
    if standing is Standing.UNMARKED:
        return Claim(f"exists but was not created by jsctl: apply marks it as {whose} (metadata only)",
                     f"not created by jsctl: this apply also marks it as {whose}")
    if standing is Standing.UNOWNED:
        return Claim(f"created by jsctl before owners were recorded: apply records project {ownership.owner} as "
                     "its owner (metadata only)",
                     f"created by jsctl before owners were recorded: this apply also records project "
                     f"{ownership.owner} as its owner")
    owner = owner_of(live_config)
    return Claim(f"owned by project {shown(owner)}: apply hands it to project {ownership.owner} (--from-owner; "
                 "metadata only)", f"owned by project {shown(owner)}: this apply also hands it to project "
                 f"{ownership.owner} (--from-owner)", owner)


def _moved(marked: str | None, declared: str | None) -> Claim | None:
    """A resource jsctl marked as one kind, declared as another (a bucket declared as its raw backing
    stream, or back, or a bucket marked by a jsctl older than the kind mark): only the kind mark changes."""
    if marked == declared:
        return None
    # no kind: a raw stream declaration, or a bucket a jsctl older than the mark made
    was = "a stream (or before kinds were recorded)" if marked is None else \
        KIND_NAMES.get(marked) or f"kind {shown(marked)}"
    return Claim(f"marked by jsctl as {was}, declared as {KIND_NAMES[declared]}: apply records it as declared "
                 "(metadata only)", f"marked by jsctl as {was}: this apply also records it as {KIND_NAMES[declared]}")


def owned_elsewhere(address: Address, owner: str, ownership: Ownership) -> str:
    """The plan error for a declared resource another project owns, saying how to go on."""
    if ownership.owner is None:
        return (f"{address}: owned by project {shown(owner)}, and no owner is set: run as that project "
                f"({HOW_TO_SET_OWNER}), or take it over with --owner NAME --from-owner {shown(owner)}")
    return (f"{address}: owned by project {shown(owner)}, declared by project {ownership.owner}: remove it from "
            f"these manifests, or take it over with --from-owner {shown(owner)} on plan and apply")


def shown(owner: str | None) -> str:
    """An owner read from live metadata, which anyone may have written: never a control character."""
    return printable(owner or "")


def unmanaged_reason(standing: Standing, owner: str | None) -> str:
    """Why an undeclared live resource is left alone (or, for this project's own, how --prune would delete it)."""
    return {Standing.UNMARKED: "not in the manifests: left alone",
            Standing.OURS: f"created by project {shown(owner)}, no longer in the manifests: delete it with --prune",
            Standing.UNOWNED: "created by jsctl before owners were recorded, not in the manifests: left alone "
                              "(--prune deletes only what this project owns; declaring it records the owner)",
            Standing.OTHERS: f"owned by project {shown(owner)}, not in these manifests: left alone"}[standing]
