"""The JetStream part of a saved plan's basis (plan/planfile.py): the live resources the plan reads
and would touch, each as the server reported it, and what changed in them since.

Not the whole account: in a live account streams and consumers come and go all day (clients'
ephemeral and ordered consumers, other teams' streams), and a saved plan that any of them made
stale would almost never apply. What the plan depends on (``covered``):

- the declared resources (present or not: one appearing since is a change too), KV keys included,
  each recorded by its revision only (a saved plan holds no value);
- the streams their defaults come from: a declared consumer's stream, a declared mirror's origin;
- whatever the plan changes or deletes: with ``--prune``, the resources the planner chose to
  delete, so whatever decides what ``--prune`` may delete decides what is covered;
- the durable consumers of the streams the plan replaces or deletes (they go with them) or whose
  consumer_limits it changes (the server checks them).

Ephemeral consumers never are (normalize.is_ephemeral). Each covered resource is recorded with its
config in canonical form (normalize.as_read: so a refusal can name each field that changed) and its
creation time. Only configs are compared: nats-server 2.10 and 2.11 report a consumer's creation
time anew, a fraction of a millisecond later, after a restart (measured; 2.12+ and streams keep
it), so the time only says when a resource was created, if it appeared or was re-created since the
plan. It is the only time the server reports: who changed a resource, and when, is not known
unless someone listened to the account's ``$JS.EVENT.ADVISORY.API`` audit at the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from ..manifest.model import Desired
from ..plan.address import CONSUMER, JETSTREAM, KV_ENTRY, STREAM, STREAM_KINDS, Address
from ..plan.model import Action, Change, FieldChange, Plan
from .bucket_streams import stream_name
from .normalize import as_read, is_ephemeral
from .observe import Live
from .plan import changes_consumer_limits, related_stream

_TAKES_ITS_CONSUMERS = (Action.REPLACE, Action.DELETE)


def covered(desired: Desired, plan: Plan, live: Live) -> set[Address]:
    """What this plan reads and would touch in the JetStream account (see the module's docstring)."""
    addresses = {resource.address for resource in [*desired.streams.values(), *desired.consumers.values()]}
    addresses |= {entry.address for entry in desired.entries.values()}  # KV keys: by their revision
    for resource in desired.streams.values():
        related = related_stream(resource, (live.streams.get(resource.name) or {}).get("config"))
        addresses |= {STREAM.address(related)} if related else set()
    addresses |= {STREAM.address(stream) for stream, _ in desired.consumers}
    touched = [c for c in plan.changes if c.changes_something and c.address.target == JETSTREAM]
    addresses |= {c.address for c in touched}
    reads_consumers = {stream_name(c.address) for c in touched if c.address.kind in STREAM_KINDS
                       and (c.action in _TAKES_ITS_CONSUMERS or changes_consumer_limits(c))}
    addresses |= {CONSUMER.address(stream, name) for (stream, name), item in live.consumers.items()
                  if stream in reads_consumers and not is_ephemeral(item["config"])}
    return addresses


def recorded(desired: Desired, plan: Plan, live: Live, also: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """``{address: what the server said}`` for the covered resources (and ``also``: those a saved plan
    covered, to compare with) that exist: ``{"config": ..., "created": ...}``, or ``{"offline": true}``
    for one the server lists but cannot read."""
    entries: dict[str, dict[str, Any]] = {}
    for address in covered(desired, plan, live) | {Address(a) for a in also}:
        if address.kind in STREAM_KINDS:
            item, offline = live.streams.get(stream_name(address)), live.offline_reason(stream_name(address))
        elif address.kind is CONSUMER:
            item, offline = live.consumers.get(address.names), live.offline_reason(*address.names)
        elif address.kind is KV_ENTRY:  # a key's revision, never its value (entries.py)
            state = live.entries.get(address.names)
            if state is not None and state.revision:
                entries[address] = {"config": {"revision": state.revision}}
            continue
        else:
            continue
        if item is not None:
            entries[address] = {"config": as_read(item["config"]), "created": item.get("created")}
        elif offline is not None:
            entries[address] = {"offline": True}
    return dict(sorted(entries.items()))


def what_changed(before: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    """One reason per covered resource that differs: how, with each field that changed, in units."""
    from ..plan.render.common import field_lines
    from .diff import field_changes

    reasons = []
    for address in sorted(before.keys() | now.keys()):
        old, new = before.get(address), now.get(address)
        if old is not None and new is not None and _as_configured(old) == _as_configured(new):
            continue
        what = f"live resource {address}"
        if new is None:
            reasons.append(f"{what} disappeared since the plan")
        elif old is None:
            reasons.append(f"{what} appeared since the plan{_created(new)}")
        elif new.get("offline") or old.get("offline"):
            reasons.append(f"{what} {'cannot be read' if new.get('offline') else 'can be read again'} since the "
                           "plan (its servers went down or came back)")
        else:
            recreated = _created_again(old, new)
            how = f"was deleted and created again since the plan{_created(new)}" if recreated else \
                "was changed since the plan"
            diff: list[FieldChange] = field_changes(old["config"], new["config"])
            fields = ", ".join(field_lines(Change(Address(address), Action.UPDATE, diff), marks=True))
            reasons.append(f"{what} {how}" + (f": {fields}" if fields else ""))
    return reasons


def _as_configured(entry: dict[str, Any]) -> tuple:
    return entry.get("config"), entry.get("offline")


_SAME_CREATION_S = 2  # creation times of one resource, read in whole seconds before and after a restart


def _created_again(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the creation times differ by more than a restart of 2.10 or 2.11 moves one."""
    def seconds(entry: dict[str, Any]) -> float | None:
        try:
            created = datetime.strptime(str(entry.get("created"))[:19], "%Y-%m-%dT%H:%M:%S")
            return created.replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            return None

    then, now = seconds(old), seconds(new)
    return then is not None and now is not None and abs(now - then) >= _SAME_CREATION_S


def _created(entry: dict[str, Any]) -> str:
    return f" (created at {entry['created']})" if entry.get("created") else ""
