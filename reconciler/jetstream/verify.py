"""After apply: plan again against what the server answered it stored; anything left is its doing.

Every create and update reply carries the stream or consumer info as the server stored it, so the
live state after apply is the state before it with those replies (and the deletes) laid over it:
read back without another listing round. nats-server 2.10 and 2.11 drop fields they do not know
without an error, and every version may adjust a value (e.g. ack_wait becomes the first backoff
step): such a field is named as an error, never hidden.

Most of that work is done during the apply (``Verifier``): each reply is normalized, with the
desired config it is checked against, as it arrives, while the server works on the requests after
it; the final plan finds those results in the cache and only compares.
"""

from __future__ import annotations

import contextlib

from ..errors import JsctlError
from ..manifest.model import DeclaredEntry, Desired
from ..plan.address import KV_ENTRY, Address
from ..plan.model import Change
from .execute import DONE, Step, stream_and_consumer
from .normalize import NormalizeCache, normalize
from .observe import Live
from .ownership import NO_OWNER, Ownership
from .plan import Normalizer, Planner


class VerifyFailed(JsctlError):
    """The live state after apply is not what was applied."""


def describe_leftover(change: Change) -> str:
    if not change.diff:
        return f"{change.address}: still needs {change.action} after apply"
    fields = ", ".join(f"{d.path} (sent {d.after!r}, stored {d.before!r})" for d in change.diff)
    return f"{change.address}: the server did not keep {fields}"


def live_after(before: Live, steps: list[Step]) -> Live:
    """``before`` with the effect of every done step, as the server reported it (deletes come first)."""
    done = [s for s in steps if s.status == DONE]
    gone_streams = {stream_and_consumer(s.address)[0] for s in done if s.verb == "delete" and s.is_stream}
    gone_consumers = {stream_and_consumer(s.address) for s in done if s.verb == "delete" and not s.is_stream}
    after = Live(before.identity, {n: i for n, i in before.streams.items() if n not in gone_streams},
                 {k: i for k, i in before.consumers.items() if k[0] not in gone_streams and k not in gone_consumers},
                 before.offline_streams, before.offline_consumers)
    for step in (s for s in done if s.verb != "delete"):
        stream, consumer = stream_and_consumer(step.address)
        if step.verb == "pause":  # the reply is the pause state, not the consumer info
            item = after.consumers[(stream, consumer)]
            config = {k: v for k, v in item["config"].items() if k != "pause_until"}
            if (step.reply or {}).get("paused"):
                config["pause_until"] = step.reply["pause_until"]
            after.consumers[(stream, consumer)] = {**item, "config": config}
        elif consumer is None:  # replies are fresh from JSON and planning never changes them: no copies
            after.streams[stream] = step.reply or {}
        else:
            after.consumers[(stream, consumer)] = step.reply or {}
    return after


def verify(desired: Desired, before: Live, steps: list[Step], *, prune: bool = False,
           ownership: Ownership = NO_OWNER, normalized: Normalizer = normalize) -> None:
    """Raise VerifyFailed naming every field the server did not keep as sent (KV entries: entries.py's)."""
    steps = [s for s in steps if s.address.kind is not KV_ENTRY]
    touched = {stream_and_consumer(s.address)[0] for s in steps}
    if not touched:
        return
    after = live_after(before, steps)
    subset = Desired({n: r for n, r in desired.streams.items() if n in touched},
                     {k: r for k, r in desired.consumers.items() if k[0] in touched})
    view = Live(after.identity, {n: i for n, i in after.streams.items() if n in touched},
                {k: i for k, i in after.consumers.items() if k[0] in touched},
                {n: why for n, why in after.offline_streams.items() if n in touched},  # still unreadable:
                {k: why for k, why in after.offline_consumers.items() if k[0] in touched})  # not "to create"
    planner = Planner(subset, view, prune=prune, ownership=ownership, normalized=normalized)
    leftovers = [c for c in planner.planned() if c.changes_something]
    if leftovers:
        raise VerifyFailed("verify after apply: " + "; ".join(describe_leftover(c) for c in leftovers))


def written_entries(desired: Desired, steps: list[Step]) -> dict[Address, DeclaredEntry | None]:
    """The KV keys apply's ``steps`` wrote, each with its declared entry (None: pruned), for entries.verify_entries."""
    return {step.address: desired.entries.get(step.address.names) for step in steps  # type: ignore[call-overload]
            if step.address.kind is KV_ENTRY and step.status == DONE}


class Verifier:
    """verify() for one apply, its normalizing done ahead: ``accepted`` (execute's hook) normalizes each
    write's reply and the desired config it is checked against as the reply arrives, into the cache
    the final ``verify`` then finds them in. Only a head start: the final verify plans everything again."""

    def __init__(self, desired: Desired, before: Live, normalized: NormalizeCache):
        self.desired = desired
        self.current = Live(before.identity, dict(before.streams), dict(before.consumers))  # replies laid over
        self.planner = Planner(desired, self.current, normalized=normalized)

    def accepted(self, step: Step) -> None:
        if step.verb not in ("create", "update") or not step.reply or step.address.kind is KV_ENTRY:
            return
        stream, consumer = stream_and_consumer(step.address)
        if consumer is None:
            self.current.streams[stream] = step.reply
            declared = self.desired.streams.get(stream)
        else:
            self.current.consumers[(stream, consumer)] = step.reply
            declared = self.desired.consumers.get((stream, consumer))
        if declared is not None:  # a head start only: what fails here, the final verify meets and reports
            with contextlib.suppress(Exception):
                self.planner.normalized_pair(declared, step.reply["config"])
