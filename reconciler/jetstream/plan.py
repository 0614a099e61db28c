"""Desired (manifests) vs live (observe.py) -> the JetStream part of the plan. Pure: no I/O.

Both sides are normalized (normalize.py) and compared with ``==``; only resources that differ are
diffed field by field (diff.py), so a converged account of thousands of resources costs one
dict comparison each. What the server cannot change in place is replace_rules.py's; what it does
not support at all, capabilities.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..manifest.model import STREAM as STREAM_KIND
from ..manifest.model import DeclaredResource, Desired
from ..plan.address import CONSUMER, STREAM, Address
from ..plan.details import Details
from ..plan.model import Action, Change, FieldChange, Plan
from ..plan.policy import is_destructive
from .capabilities import unsupported
from .diff import field_changes
from .normalize import MANAGED_KEY, MANAGED_VALUE, is_ephemeral, is_managed, normalize
from .observe import Live
from .replace_rules import limits_change_refused, replace_reasons


def to_send(declared: dict[str, Any]) -> dict[str, Any]:
    """The config apply sends: the declared one, marked as jsctl's (applying a declared resource
    that jsctl did not create adopts it)."""
    config = dict(declared)
    config["metadata"] = {**(config.get("metadata") or {}), MANAGED_KEY: MANAGED_VALUE}
    return config


def _stream_state(item: dict[str, Any]) -> dict[str, Any]:
    state = item.get("state") or {}
    return {"messages": state.get("messages", 0), "bytes": state.get("bytes", 0)}


def _consumer_state(item: dict[str, Any]) -> dict[str, Any]:
    return {"num_pending": item.get("num_pending", 0), "num_ack_pending": item.get("num_ack_pending", 0),
            "ack_floor_stream_seq": (item.get("ack_floor") or {}).get("stream_seq", 0)}


ADOPT_REASON = "exists but was not created by jsctl: apply marks it as managed (metadata only)"
ADOPTS_TOO = "not created by jsctl: this apply also marks it as managed"
RENAME_NOTE = ("jsctl never guesses renames: if this was renamed, the old one is deleted and the new one "
               "created empty")


def _adopt(address: Address, declared: dict[str, Any]) -> Change:
    """A declared resource someone else created, identical to its manifest: only the ownership mark changes."""
    return Change(address, Action.ADOPT, [FieldChange(f"metadata.{MANAGED_KEY}", None, MANAGED_VALUE)],
                  reason=ADOPT_REASON, desired=to_send(declared))


def _adopting(change: Change) -> Change:
    """An update of a resource jsctl did not create also adopts it (the config sent carries the mark)."""
    change.reason = "; ".join(filter(None, [change.reason, ADOPTS_TOO]))
    change.details.adopts = True
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
        return (declared.config.get("mirror") or (live_config or {}).get("mirror") or {}).get("name")
    return declared.stream


def changes_consumer_limits(change: Change) -> bool:
    """A stream update changing its consumer_limits, which its live consumers must not exceed."""
    return change.address.kind is STREAM and change.action == Action.UPDATE and \
        any(d.path.startswith("consumer_limits") for d in change.diff)


Normalizer = Callable[[str, dict[str, Any], Any, dict[str, Any] | None], dict[str, Any]]


class Planner:
    def __init__(self, desired: Desired, live: Live, *, prune: bool = False, normalized: Normalizer = normalize):
        self.desired, self.live, self.prune = desired, live, prune
        self.normalized = normalized  # normalize, or a NormalizeCache shared by a plan and its verify
        self.version = live.version
        self.changes: list[Change] = []
        self.errors: list[str] = []
        self.replaced_streams: set[str] = set()
        self.live_consumers_of: dict[str, list[str]] = {}  # stream -> its live consumers' names
        for stream, name in live.consumers:
            self.live_consumers_of.setdefault(stream, []).append(name)

    def plan(self) -> Plan:
        for resource in [*self.desired.streams.values(), *self.desired.consumers.values()]:
            self.errors += [f"{resource.address}: {p}" for p in unsupported(resource.kind, resource.config,
                                                                            self.version)]
        ident = self.live.identity
        return Plan(self.planned(), self.errors, {"nats": {"server_version": ident.version,
                                                           "server_name": ident.name, "api_level": ident.api_level}})

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
            self.changes.append(Change(address, Action.CREATE, desired=to_send(declared.config)))
            return
        lost = sorted(name for name in self.live_consumers_of.get(declared.name, [])
                      if not is_ephemeral(self.live.consumers[(declared.name, name)]["config"]))
        change = self._compare(declared, item["config"], {**_stream_state(item), "consumers": lost})
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
            self.changes.append(Change(address, Action.CREATE, reason=reason, desired=to_send(declared.config)))
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
        """None when equal (an adopt when jsctl did not create it), else an update, or a replace for
        what the server cannot change in place."""
        before, after = self.normalized_pair(declared, live_config)
        if before == after:  # nothing to change, but a resource jsctl did not create gets its mark
            return None if is_managed(live_config) else _adopt(declared.address, declared.config)
        diff = field_changes(before, after)
        reasons = replace_reasons(declared.kind, before, after, self.version)
        if not reasons:
            update = Change(declared.address, Action.UPDATE, diff, desired=to_send(declared.config))
            return update if is_managed(live_config) else _adopting(update)
        return Change(declared.address, Action.REPLACE, diff, destructive=is_destructive(Action.REPLACE),
                      reason="; ".join(reasons), details=Details(destroys=destroys), desired=to_send(declared.config))

    def _undeclared(self) -> None:
        """Live resources no manifest declares: notes, or deletes of jsctl's own with --prune."""
        deleted_streams = set()
        for name in sorted(self.live.streams.keys() - self.desired.streams.keys()):
            item = self.live.streams[name]
            if self.prune and is_managed(item["config"]):
                deleted_streams.add(name)
                self.changes.append(_delete(STREAM.address(name), _stream_state(item)))
            else:
                self.changes.append(self._unmanaged(STREAM.address(name), item["config"]))
        for stream, name in sorted(self.live.consumers.keys() - self.desired.consumers.keys()):
            item = self.live.consumers[(stream, name)]
            address = CONSUMER.address(stream, name)
            if stream in self.replaced_streams or is_ephemeral(item["config"]):
                continue  # listed in the stream's replace as destroyed; a client's, gone when it is
            if (self.prune and is_managed(item["config"])) or stream in deleted_streams:
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
        if {Action.CREATE} & {c.action for c in self.changes if c.address.kind is STREAM}:
            for change in self.changes:
                if change.action == Action.DELETE and change.address.kind is STREAM:
                    change.reason = f"{change.reason}; {RENAME_NOTE}"

    def _undeclared_offline(self) -> None:
        for name in sorted(self.live.offline_streams.keys() - self.desired.streams.keys()):
            self.changes.append(_offline(STREAM.address(name), self.live.offline_streams[name]))
        for stream, name in sorted(self.live.offline_consumers.keys() - self.desired.consumers.keys()):
            self.changes.append(_offline(CONSUMER.address(stream, name), self.live.offline_consumers[(stream, name)]))

    def _unmanaged(self, address: Address, config: dict[str, Any]) -> Change:
        reason = ("created by jsctl, no longer in the manifests: delete it with --prune"
                  if is_managed(config) else "not in the manifests: left alone")
        return Change(address, Action.UNMANAGED, reason=reason)


def plan_jetstream(desired: Desired, live: Live, *, prune: bool = False, normalized: Normalizer = normalize) -> Plan:
    """The JetStream plan: creates, updates, replaces, deletes (only with ``prune``) and unmanaged notes."""
    return Planner(desired, live, prune=prune, normalized=normalized).plan()
