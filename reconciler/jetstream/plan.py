"""Desired (manifests) vs live (observe.py) -> the JetStream part of the plan. Pure: no I/O.

Both sides are normalized (normalize.py) and compared with ``==``; only resources that differ are
diffed field by field (diff.py), so a converged account of thousands of resources costs one
dict comparison each. What the server cannot change in place is replace_rules.py's; what it does
not support at all, capabilities.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..manifest.model import STREAM as STREAM_KIND
from ..manifest.model import DeclaredResource, Desired
from ..plan.address import CONSUMER, STREAM, STREAM_KINDS, Address
from ..plan.details import Details
from ..plan.model import Action, Change, Plan
from ..plan.policy import is_destructive
from .bucket_streams import destroyed, stream_address
from .capabilities import unsupported
from .defaults import local_origin
from .diff import field_changes
from .normalize import is_ephemeral, normalize
from .observe import Live
from .ownership import NO_OWNER, Claim, Ownership, Standing, claim, owned_elsewhere, owner_of, shown, unmanaged_reason
from .replace_rules import limits_change_refused, replace_reasons


def _stream_state(item: dict[str, Any], address: Address) -> dict[str, Any]:
    """What deleting the stream at ``address`` loses (a bucket's: its keys or objects and bytes)."""
    state = item.get("state") or {}
    return destroyed(item, address) or {"messages": state.get("messages", 0), "bytes": state.get("bytes", 0)}


def _consumer_state(item: dict[str, Any]) -> dict[str, Any]:
    return {"num_pending": item.get("num_pending", 0), "num_ack_pending": item.get("num_ack_pending", 0),
            "ack_floor_stream_seq": (item.get("ack_floor") or {}).get("stream_seq", 0)}


RENAME_NOTE = ("jsctl never guesses renames: if this was renamed, the old one is deleted and the new one "
               "created empty")


def _adopt(address: Address, desired: dict[str, Any], why: Claim) -> Change:
    """A declared resource identical to its manifest that is not this project's yet: only the ownership
    marks change, and they are not fields: the change has no diff (its desired config carries them)."""
    return Change(address, Action.ADOPT, reason=why.adopt, details=Details(owner=why.owner), desired=desired)


def _adopting(change: Change, why: Claim) -> Change:
    """An update of a resource that is not this project's yet also makes it so (the config sent carries the marks)."""
    change.reason = "; ".join(filter(None, [change.reason, why.also]))
    change.details.adopts, change.details.owner = True, why.owner
    return change


def _delete(address: Address, destroys: dict[str, Any]) -> Change:
    return Change(address, Action.DELETE, destructive=is_destructive(Action.DELETE), reason="not in the manifests",
                  details=Details(destroys=destroys))


def _offline(address: Address, why: str) -> Change:
    """A resource the server lists but cannot read: neither created nor deleted, only shown."""
    return Change(address, Action.OFFLINE,
                  reason=f"the server lists it but cannot read it: {why or 'no replica answered'}; left alone")


def related_stream(declared: DeclaredResource, live_config: dict[str, Any] | None) -> str | None:
    """The stream some of a declared resource's defaults come from: a consumer's stream, a mirror's
    origin (as declared, else as it is live)."""
    if declared.kind == STREAM_KIND:
        return local_origin(declared.config.get("mirror") or (live_config or {}).get("mirror"))
    return declared.stream


def changes_consumer_limits(change: Change) -> bool:
    """A stream update changing its consumer_limits, which its live consumers must not exceed."""
    return change.address.kind is STREAM and change.action == Action.UPDATE and \
        any(d.path.startswith("consumer_limits") for d in change.diff)


def held_streams(live: Live, ownership: Ownership) -> dict[str, list[str]]:
    """Stream -> its consumers that jsctl marked for another project (or for none), by name: deleting
    the stream would delete them, so --prune leaves it."""
    held: dict[str, list[str]] = {}
    for (stream, name), item in sorted(live.consumers.items()):
        if ownership.standing(item["config"]) in (Standing.OTHERS, Standing.UNOWNED):
            held.setdefault(stream, []).append(name)
    return held


def prune_candidates(desired: Desired, live: Live, ownership: Ownership) -> tuple[set[str], set[tuple[str, str]]]:
    """The undeclared live streams and consumers that ``--prune`` deletes: this project's own (none
    when no owner is set), except streams other projects' consumers are on, and the consumers of a
    stream it deletes (clients' ephemeral ones go with it unnamed). The one place that decides it (plans,
    their verify, a saved plan's basis)."""
    consumers = {key for key in live.consumers.keys() - desired.consumers.keys()
                 if ownership.standing(live.consumers[key]["config"]) is Standing.OURS}
    streams = {name for name in live.streams.keys() - desired.streams.keys() - held_streams(live, ownership).keys()
               if ownership.standing(live.streams[name]["config"]) is Standing.OURS}
    consumers |= {key for key in live.consumers.keys() - desired.consumers.keys()
                  if key[0] in streams and not is_ephemeral(live.consumers[key]["config"])}
    return streams, consumers


Normalizer = Callable[[str, dict[str, Any], Any, dict[str, Any] | None], dict[str, Any]]


class Planner:
    def __init__(self, desired: Desired, live: Live, *, prune: bool = False, ownership: Ownership = NO_OWNER,
                 normalized: Normalizer = normalize):
        self.desired, self.live, self.prune, self.ownership = desired, live, prune, ownership
        self.normalized = normalized  # normalize, or a NormalizeCache shared by a plan and its verify
        self.version = live.version
        self.changes: list[Change] = []
        self.errors: list[str] = []
        self.replaced_streams: set[str] = set()
        self.live_consumers_of: dict[str, list[str]] = {}  # stream -> its live consumers' names
        for stream, name in live.consumers:
            self.live_consumers_of.setdefault(stream, []).append(name)

    def plan(self) -> Plan:
        declared = self.desired
        for resource in [*declared.streams.values(), *declared.consumers.values(), *declared.key_value.values(),
                         *declared.object_stores.values()]:  # a bucket's own fields, as well as its stream's
            self.errors += [f"{resource.address}: {p}" for p in unsupported(resource.kind, resource.config,
                                                                            self.version)]
        ident = self.live.identity
        nats = {"server_version": ident.version, "server_name": ident.name, "api_level": ident.api_level,
                "cluster": ident.cluster, "account": ident.account}
        return Plan(self.planned(), self.errors, {"nats": nats | ({"domain": ident.domain} if ident.domain else {})})

    def planned(self) -> list[Change]:
        """The changes alone, without the version checks (verify plans again what was checked)."""
        for name in sorted(self.desired.streams):
            self._stream(self.desired.streams[name])
        for key in sorted(self.desired.consumers):
            self._consumer(self.desired.consumers[key])
        self._undeclared()
        self._check_consumer_limit_changes()
        self._note_possible_renames()
        self._undeclared_offline()
        return self.changes

    def _live_config(self, stream: str | None) -> dict[str, Any] | None:
        return (self.live.streams.get(stream or "") or {}).get("config")

    def _desired_config(self, stream: str | None) -> dict[str, Any] | None:
        """A stream's config as it will be: declared, else as it is."""
        declared = self.desired.streams.get(stream or "")
        return declared.config if declared else self._live_config(stream)

    def _stream(self, declared: DeclaredResource) -> None:
        item = self.live.streams.get(declared.name)
        address = declared.address
        if item is None and declared.name in self.live.offline_streams:
            self.changes.append(_offline(address, self.live.offline_streams[declared.name]))
            return
        if item is None:
            self.changes.append(Change(address, Action.CREATE, desired=self.ownership.mark(declared.config, address)))
            return
        lost = sorted(name for name in self.live_consumers_of.get(declared.name, [])
                      if not is_ephemeral(self.live.consumers[(declared.name, name)]["config"]))
        lost_too = {"consumers": lost} if lost or address.kind is STREAM else {}  # clients watch buckets unnamed
        change = self._compare(declared, item["config"], {**_stream_state(item, address), **lost_too})
        if change is not None and change.action == Action.REPLACE:
            self.replaced_streams.add(declared.name)
        if change is not None:
            self.changes.append(change)

    def _consumer(self, declared: DeclaredResource) -> None:
        stream = declared.stream or ""
        address = declared.address
        item = self.live.consumers.get((stream, declared.name))
        why = self.live.offline_reason(stream, declared.name) if item is None else None
        if why is not None:
            self.changes.append(_offline(address, why))
            return
        if item is None or stream in self.replaced_streams:
            reason = f"stream {stream} is replaced" if item is not None else None
            self.changes.append(Change(address, Action.CREATE, reason=reason,
                                       desired=self.ownership.mark(declared.config, address)))
            return
        change = self._compare(declared, item["config"], _consumer_state(item))
        if change is not None:
            self.changes.append(change)

    def normalized_pair(self, declared: DeclaredResource, live_config: dict[str, Any]) -> tuple[dict, dict]:
        """(live, desired) normalized, each with the config of the stream some of its defaults come
        from: a consumer's stream, a mirror's origin (as it is live, as it will be)."""
        related = related_stream(declared, live_config)
        return (self.normalized(declared.kind, live_config, self.version, self._live_config(related)),
                self.normalized(declared.kind, declared.config, self.version, self._desired_config(related)))

    def _compare(self, declared: DeclaredResource, live_config: dict[str, Any],
                 destroys: dict[str, Any]) -> Change | None:
        """None when equal (an adopt when it is not this project's yet), else an update, or a replace for
        what the server cannot change in place. Declaring what another project owns is a plan error
        unless this plan takes it over (``--from-owner``): the change is still shown."""
        why = claim(self.ownership, live_config, declared.address)
        if why is not None and why.owner is not None and why.owner != self.ownership.from_owner:
            self.errors.append(owned_elsewhere(declared.address, why.owner, self.ownership))
        desired = self.ownership.mark(declared.config, declared.address)
        before, after = self.normalized_pair(declared, live_config)
        if before == after:  # nothing to change, but a resource that is not this project's yet gets its marks
            return None if why is None else _adopt(declared.address, desired, why)
        diff = field_changes(before, after)
        reasons = replace_reasons(declared.kind, before, after, self.version)
        if not reasons:
            update = Change(declared.address, Action.UPDATE, diff, desired=desired)
            return update if why is None else _adopting(update, why)
        return Change(declared.address, Action.REPLACE, diff, destructive=is_destructive(Action.REPLACE),
                      reason="; ".join(reasons), details=Details(destroys=destroys, owner=why.owner if why else None),
                      desired=desired)

    def _undeclared(self) -> None:
        """Live resources no manifest declares: notes, or with --prune deletes of this project's own
        (prune_candidates decides which)."""
        streams, consumers = prune_candidates(self.desired, self.live, self.ownership) if self.prune else ((), ())
        held = held_streams(self.live, self.ownership)
        for name in sorted(self.live.streams.keys() - self.desired.streams.keys()):
            item = self.live.streams[name]
            address = stream_address(name, item["config"])
            if name in streams:
                self.changes.append(_delete(address, _stream_state(item, address)))
            else:
                self.changes.append(self._unmanaged(address, item["config"], held.get(name, [])))
        for stream, name in sorted(self.live.consumers.keys() - self.desired.consumers.keys()):
            item = self.live.consumers[(stream, name)]
            address = CONSUMER.address(stream, name)
            if stream in self.replaced_streams or is_ephemeral(item["config"]):
                continue  # listed in the stream's replace as destroyed; a client's, gone when it is
            if (stream, name) in consumers:
                self.changes.append(_delete(address, _consumer_state(item)))
            else:
                self.changes.append(self._unmanaged(address, item["config"]))

    def _check_consumer_limit_changes(self) -> None:
        """A stream update changing consumer_limits that its remaining consumers exceed is refused by
        the server: a plan error, so that apply sends nothing rather than stopping there."""
        deleted = {c.address for c in self.changes if c.action == Action.DELETE}
        for change in self.changes:
            if not changes_consumer_limits(change):
                continue
            (stream,) = change.address.names
            consumers = {name: self.live.consumers[(stream, name)]["config"]
                         for name in self.live_consumers_of.get(stream, [])
                         if CONSUMER.address(stream, name) not in deleted}
            refused = limits_change_refused(self._live_config(stream).get("consumer_limits"),
                                            self.desired.streams[stream].config.get("consumer_limits"), consumers,
                                            self.version)
            if refused:
                self.errors.append(f"{change.address}: {refused}")

    def _note_possible_renames(self) -> None:
        """A stream deleted while another is created may be a rename: say what that costs, never guess."""
        if {Action.CREATE} & {c.action for c in self.changes if c.address.kind in STREAM_KINDS}:
            for change in self.changes:
                if change.action == Action.DELETE and change.address.kind in STREAM_KINDS:
                    change.reason = f"{change.reason}; {RENAME_NOTE}"

    def _undeclared_offline(self) -> None:
        for name in sorted(self.live.offline_streams.keys() - self.desired.streams.keys()):
            self.changes.append(_offline(STREAM.address(name), self.live.offline_streams[name]))
        for stream, name in sorted(self.live.offline_consumers.keys() - self.desired.consumers.keys()):
            self.changes.append(_offline(CONSUMER.address(stream, name), self.live.offline_consumers[(stream, name)]))

    def _unmanaged(self, address: Address, config: dict[str, Any], held_by: Sequence[str] = ()) -> Change:
        """A note: an undeclared resource left alone, with the project that owns it (``details.owner``);
        ``held_by``: the consumers of other projects that keep this project's stream from being pruned."""
        standing, owner = self.ownership.standing(config), owner_of(config)
        reason = unmanaged_reason(standing, owner)
        if standing is Standing.OURS and held_by:
            stream = config["name"]
            holders = ", ".join(f"{CONSUMER.address(stream, name)} ({self._holder(stream, name)})" for name in held_by)
            reason = (f"created by project {shown(owner)}, no longer in the manifests: --prune leaves it while "
                      f"consumers jsctl made for others are on it: {holders}")
        return Change(address, Action.UNMANAGED, reason=reason, details=Details(owner=owner))

    def _holder(self, stream: str, name: str) -> str:
        owner = owner_of(self.live.consumers[(stream, name)]["config"])
        return f"project {shown(owner)}" if owner else "no owner recorded"


def plan_jetstream(desired: Desired, live: Live, *, prune: bool = False, ownership: Ownership = NO_OWNER,
                   normalized: Normalizer = normalize) -> Plan:
    """The JetStream plan: creates, updates, replaces, deletes (only with ``prune``, only of what
    ``ownership.owner`` owns), adopts, and notes of what is left alone."""
    return Planner(desired, live, prune=prune, ownership=ownership, normalized=normalized).plan()
