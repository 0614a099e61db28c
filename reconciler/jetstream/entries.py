"""Declared keys of KV buckets (``entries:``; addresses ``kv/BUCKET/KEY``): read, planned, written.

A key's state is the last message on its subject ``$KV.<bucket>.<key>`` in the backing stream
``KV_<bucket>``: its sequence is the key's *revision*, a ``KV-Operation: DEL``/``PURGE`` header
marks it deleted. jsctl reads it with ``STREAM.MSG.GET`` ``last_by_subj`` (answered whether or not
the bucket allows direct gets; nats-py's buckets do not) and writes with a plain JetStream publish
carrying ``Nats-Expected-Last-Subject-Sequence`` = the revision the plan saw (0: none), so a writer
that came in between makes the write fail (10071, or 10164 on 2.11+ replicated streams) rather than
be overwritten (docs/research/buckets.md, §3).

Every write carries jsctl's marks as headers (``Jsctl-Managed: true``, ``Jsctl-Owner: PROJECT``),
stored with the message: keys have no metadata, so ``--prune`` deletes an undeclared key only when
its last write carries this project's marks (ownership.py judges them as it judges a stream's).

Under a JetStream domain, writes go through the domain's API prefix (settings.kv_put_subject, as nats.go
does): a bare ``$KV.`` publish lands in the bucket of whatever domain the connection is in.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import JsctlError
from ..manifest.model import KV as KV_KIND
from ..manifest.model import DeclaredEntry, Desired
from ..plan.address import KV, KV_ENTRY, Address
from ..plan.details import Details
from ..plan.model import Action, Change, FieldChange, Plan
from ..plan.policy import is_destructive
from .buckets import backing_stream_name, kv_subject_prefix
from .client import (
    ERR_NO_MESSAGE,
    ERR_WRONG_LAST_SEQUENCE,
    KV_DELETE_OPERATIONS,
    ApiError,
    JetStreamApi,
    stored_headers,
    unanswered,
)
from .observe import Live
from .ownership import MANAGED_KEY, MANAGED_VALUE, OWNER_KEY, Ownership, Standing, owned_elsewhere, owner_of, shown
from .settings import kv_put_subject

MANAGED_HEADER, OWNER_HEADER = "Jsctl-Managed", "Jsctl-Owner"  # jsctl's marks on every write it makes
_MARK_OF_HEADER = {MANAGED_HEADER: MANAGED_KEY, OWNER_HEADER: OWNER_KEY}
OPERATION_HEADER = "KV-Operation"
EXPECTED_REVISION_HEADER = "Nats-Expected-Last-Subject-Sequence"
MARKER_REASON_HEADER = "Nats-Marker-Reason"  # 2.11+: a marker the server wrote (MaxAge, Purge, Remove): no value
VALUE_FIELD = "value"  # the one field of an entry's diff


@dataclass(frozen=True)
class LiveEntry:
    """A key as the server has it: ``revision`` is the sequence of its last message (0: it never had
    one), ``value`` None when that message deletes it, ``marks`` jsctl's marks of that write (as
    ownership.py reads metadata)."""

    revision: int = 0
    value: bytes | None = field(default=None, repr=False)
    marks: Mapping[str, str] = field(default_factory=dict)

    @property
    def as_config(self) -> dict[str, Any]:
        """The key as ownership.py judges a stream's config: its marks as metadata."""
        return {"metadata": dict(self.marks)}


ABSENT = LiveEntry()


def kv_subject(bucket: str, key: str) -> str:
    return kv_subject_prefix(bucket) + key


def live_entry(message: dict[str, Any]) -> LiveEntry:
    """A STREAM.MSG.GET ``message`` as the key's state."""
    headers = stored_headers(message.get("hdrs"))
    marks = {_MARK_OF_HEADER[name]: value for name, value in headers.items() if name in _MARK_OF_HEADER}
    deleted = headers.get(OPERATION_HEADER) in KV_DELETE_OPERATIONS or MARKER_REASON_HEADER in headers
    value = None if deleted else base64.b64decode(message.get("data") or "")
    return LiveEntry(int(message["seq"]), value, marks)


async def read_entry(api: JetStreamApi, bucket: str, key: str) -> LiveEntry:
    try:
        reply = await api.request(f"STREAM.MSG.GET.{backing_stream_name(KV_KIND, bucket)}",
                                  {"last_by_subj": kv_subject(bucket, key)})
    except ApiError as exc:
        if exc.err_code == ERR_NO_MESSAGE:
            return ABSENT
        raise
    return live_entry(reply["message"])


async def read_entries(api: JetStreamApi, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], LiveEntry]:
    """The state of each ``(bucket, key)``, read concurrently (bounded)."""
    from .observe import bounded

    wanted = sorted(set(keys))
    found = await bounded(read_entry(api, bucket, key) for bucket, key in wanted)
    return dict(zip(wanted, found, strict=True))


MAX_PAGES = 1_000  # a bound on the listing: STREAM.INFO pages hold up to 100,000 subjects (100 million keys)


async def bucket_keys(api: JetStreamApi, bucket: str) -> list[str]:
    """Every key the bucket holds a message for (deleted ones too: their markers stay), from
    STREAM.INFO's paged ``subjects_filter``."""
    prefix = kv_subject_prefix(bucket)
    keys: list[str] = []
    for _ in range(MAX_PAGES):
        info = await api.request(f"STREAM.INFO.{backing_stream_name(KV_KIND, bucket)}",
                                 {"subjects_filter": f"{prefix}>", "offset": len(keys)})
        page = info.get("state", {}).get("subjects") or {}
        keys += [subject[len(prefix):] for subject in page]
        if not page or len(keys) >= info.get("total", 0):
            break
    return sorted(keys)


# Planning: pure.


def text_of(value: bytes | None) -> str | None:
    return None if value is None else value.decode(errors="backslashreplace")


def plan_entry(declared: DeclaredEntry, live: LiveEntry, ownership: Ownership) -> Change | None:
    """A create (the key has no value), an update back to the declared value, or None when it has it.
    A key another project's jsctl wrote last is that project's (planned, and a plan error unless this
    plan takes it over: ``--from-owner``; then even an equal value is written again, as an ``adopt``, so
    that its --prune leaves it). ``desired`` holds the revision the write expects, never the value."""
    theirs = owner_of(live.as_config) if ownership.standing(live.as_config) is Standing.OTHERS else None
    details = Details(sensitive=declared.sensitive, owner=theirs)
    if live.value == declared.value:
        if theirs is None:
            return None
        return Change(declared.address, Action.ADOPT, reason=f"written last by project {shown(theirs)}: apply "
                      f"writes it again as {ownership.whose()} (--from-owner)", details=details,
                      desired={"revision": live.revision})
    action = Action.CREATE if live.value is None else Action.UPDATE
    before, after = (None, None) if declared.sensitive else (text_of(live.value), text_of(declared.value))
    reason = None
    if theirs is not None:
        reason = f"written last by project {shown(theirs)}: this apply also hands it to {ownership.whose()}"
    elif action == Action.UPDATE and ownership.standing(live.as_config) is Standing.UNMARKED:
        reason = "changed outside jsctl: apply writes the declared value back"
    return Change(declared.address, action, [FieldChange(VALUE_FIELD, before, after)], reason=reason,
                  details=details, desired={"revision": live.revision})


def prunable(live: LiveEntry, ownership: Ownership) -> bool:
    """An undeclared key ``--prune`` deletes: one with a value whose last write is this project's."""
    return live.value is not None and ownership.standing(live.as_config) is Standing.OURS


def prune_entry(address: Address, live: LiveEntry) -> Change:
    """Delete (a KV delete marker, as ``nats kv del``) an undeclared key this project wrote; its value is
    not shown (undeclared: jsctl cannot know whether it is sensitive)."""
    return Change(address, Action.DELETE, [FieldChange(VALUE_FIELD, None, None)],
                  destructive=is_destructive(Action.DELETE),
                  reason=f"written by project {shown(live.marks.get(OWNER_KEY))}, no longer in the manifests",
                  details=Details(sensitive=True), desired={"revision": live.revision})


def plan_entries(declared: Mapping[tuple[str, str], DeclaredEntry], live: Mapping[tuple[str, str], LiveEntry],
                 ownership: Ownership, *, fresh: Iterable[str] = (), prune: bool = False) -> Plan:
    """The changes of the declared keys (``fresh``: buckets this plan creates or replaces, so empty) and,
    with ``prune``, deletes of the keys of ``live`` no manifest declares that this project wrote last; an
    error for each declared key another project wrote last, unless ``ownership.from_owner`` is that project."""
    empty = set(fresh)
    planned = Plan()
    for where in sorted(declared):
        change = plan_entry(declared[where], ABSENT if where[0] in empty else live.get(where, ABSENT), ownership)
        if change is None:
            continue
        planned.changes.append(change)
        owner = change.details.owner
        if owner is not None and owner != ownership.from_owner:
            planned.errors.append(owned_elsewhere(change.address, owner, ownership))
    for (bucket, key), state in sorted(live.items()) if prune else ():
        if (bucket, key) not in declared and bucket not in empty and prunable(state, ownership):
            planned.changes.append(prune_entry(KV_ENTRY.address(bucket, key), state))
    return planned


def planned_entries(desired: Desired, live: Live, plan: Plan, ownership: Ownership, *, prune: bool = False
                    ) -> Plan:
    """The entry changes of a JetStream ``plan`` (its bucket changes made): the keys of a bucket it creates
    or replaces are created; those of a bucket the server cannot read (offline) are left out, as the bucket
    is (its ``offline`` note says why)."""
    fresh = {change.address.names[0] for change in plan.changes
             if change.address.kind is KV and change.action in (Action.CREATE, Action.REPLACE)}
    readable = {where: entry for where, entry in desired.entries.items()
                if live.offline_reason(backing_stream_name(KV_KIND, where[0])) is None}
    return plan_entries(readable, live.entries, ownership, fresh=fresh, prune=prune)


async def observe_entries(api: JetStreamApi, desired: Desired, live_streams: Mapping[str, Any], *,
                          prune: bool = False) -> dict[tuple[str, str], LiveEntry]:
    """The declared keys of the buckets that exist and, with ``prune``, every other key of the declared
    buckets (what --prune may delete)."""
    exists = {bucket for bucket in {*desired.key_value, *(b for b, _ in desired.entries)}
              if backing_stream_name(KV_KIND, bucket) in live_streams}
    keys = {where for where in desired.entries if where[0] in exists}
    for bucket in sorted(exists) if prune else ():
        keys |= {(bucket, key) for key in await bucket_keys(api, bucket)}
    return await read_entries(api, keys)


# Applying.


class EntryConflict(JsctlError):
    """A key's revision moved between plan and apply: someone else wrote it; nothing was overwritten."""


def marks_headers(ownership: Ownership) -> dict[str, str]:
    return {MANAGED_HEADER: MANAGED_VALUE} | ({OWNER_HEADER: ownership.owner} if ownership.owner else {})


@dataclass
class EntryWriter:
    """Writes entry steps (execute.py calls ``write``): the declared values by address (none: the key
    is deleted), marked as written by ``ownership``'s project."""

    values: Mapping[Address, bytes]
    ownership: Ownership

    async def write(self, api: JetStreamApi, change: Change) -> dict[str, Any]:
        value = None if change.action == Action.DELETE else self.values[change.address]
        return await write_entry(api, change.address, int((change.desired or {}).get("revision", 0)), value,
                                 self.ownership)


async def write_entry(api: JetStreamApi, address: Address, expected: int, value: bytes | None,
                      ownership: Ownership) -> dict[str, Any]:
    """Publish ``value`` (None: a delete marker) to the key at ``address`` iff its revision is still
    ``expected``, the one the plan saw; the PubAck (``seq``: the new revision). A moved revision raises
    EntryConflict."""
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout

    headers = {EXPECTED_REVISION_HEADER: str(expected), **marks_headers(ownership)}
    if value is None:
        headers[OPERATION_HEADER] = "DEL"
    bucket, key = address.names
    subject = kv_put_subject(api.prefix, bucket, key)
    try:
        msg = await api.nc.request(subject, value or b"", timeout=api.timeout, headers=headers)
    except NatsTimeout:
        raise unanswered(api.nc, subject, api.timeout) from None
    except NoRespondersError:
        raise JsctlError(f"{subject}: no JetStream stream stores this key (is the bucket there?)") from None
    try:
        reply = json.loads(msg.data)
    except ValueError:
        raise JsctlError(f"{subject}: the server answered a KV write with something that is not a PubAck") from None
    error = reply.get("error")
    if not error:
        return reply
    if error.get("err_code") in ERR_WRONG_LAST_SEQUENCE:
        now = await read_entry(api, bucket, key)
        raise EntryConflict(
            f"key {key} of bucket {bucket} changed since the plan: the plan expected revision {expected}, the key "
            f"is at revision {now.revision}; someone else wrote it meanwhile and jsctl did not overwrite it: run "
            "`jsctl plan` to see its value now, then apply again (or change the manifest)")
    raise ApiError(subject, error.get("code", 0), error.get("err_code", 0), error.get("description", "?"))


class EntriesNotKept(JsctlError):
    """After apply, a declared key does not hold the declared value."""


async def verify_entries(api: JetStreamApi, written: Mapping[Address, DeclaredEntry | None]) -> None:
    """Read back each written key: a declared one must hold its value, a pruned one none."""
    states = await read_entries(api, [tuple(address.names) for address in written])  # type: ignore[misc]
    wrong = []
    for address, entry in written.items():
        state = states[tuple(address.names)]  # type: ignore[index]
        if state.value != (entry.value if entry else None):
            wrong.append(f"{address} " + ("holds another value" if entry else "still has a value"))
    if wrong:
        raise EntriesNotKept("verify after apply: " + "; ".join(wrong) + " (someone wrote it since: run `jsctl plan`)")
