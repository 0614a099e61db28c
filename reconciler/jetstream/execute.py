"""Apply the JetStream part of a plan: every request as soon as what it depends on is done.

Three phases: deletes (a stream after its consumers), then writes (a stream after the origins,
mirror and sources, written with it; a consumer after its stream; a pause after its update), then
the declared keys of KV buckets (entries.py: their buckets exist by then). Up to
``concurrency`` requests are in flight. The first failed request stops the apply once the
requests already in flight have answered: each step is reported as done, failed or not done,
and since the live servers are the truth, the next plan is exactly the rest.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import JsctlError
from ..plan.address import KV_ENTRY, STREAM_KINDS, Address
from ..plan.model import Action, Change
from .bucket_streams import stream_name
from .client import JetStreamApi
from .defaults import local_origin

if TYPE_CHECKING:
    from .entries import EntryWriter

DONE, FAILED, NOT_DONE = "done", "failed", "not done"
NO_ANSWER = "no answer"  # sent, not answered (yet): the server may carry it out after an interrupted apply
# Writes in flight: enough that nats-server always has the next request queued while the client
# reads replies (5,000 creates, 2 cores: 1.40 s at 256 vs 1.73 s at 64), far below the server's
# API queue limit, past which it drops pending requests (request_queue_limit, default 10,000).
WRITE_CONCURRENCY = 256
# On a cluster with a node down, a create is answered once its new raft group has a leader: 4-8 s
# when the first choice was the dead node (measured, 2.12.8), past the API's usual 5 s.
WRITE_TIMEOUT_S = 30.0


@dataclass
class Step:
    address: Address
    verb: str  # delete | create | update | pause
    subject: str
    payload: dict[str, Any] | None = None
    status: str = NOT_DONE
    error: str = ""
    after: list[Step] = field(default_factory=list, repr=False)  # steps that must be done first
    reply: dict[str, Any] | None = field(default=None, repr=False)  # the server's answer: what it stored
    change: Change | None = field(default=None, repr=False)  # a KV entry's: what entries.EntryWriter writes

    @property
    def is_stream(self) -> bool:
        return self.address.kind in STREAM_KINDS

    def describe(self) -> str:
        return f"{self.verb} {self.address}" + (f": {self.error}" if self.error else "")


class ApplyFailed(JsctlError):
    """A request failed (the first one is named), or the apply was interrupted (``--timeout``, Ctrl-C)."""

    def __init__(self, steps: list[Step], *, interrupted: bool = False):
        self.steps = steps
        done = sum(s.status == DONE for s in steps)
        unanswered = sum(s.status == NO_ANSWER for s in steps)
        what = "apply interrupted" if interrupted else \
            f"apply stopped at {next(s for s in steps if s.status == FAILED).describe()}"
        pending = f", {unanswered} sent without an answer that the server may still carry out" if unanswered else ""
        super().__init__(f"{what} ({done} of {len(steps)} steps done{pending}; `jsctl plan` shows what is left)")

    def report(self) -> str:
        return "\n".join(f"  {s.status:>9}  {s.describe()}" for s in self.steps)


def stream_and_consumer(address: Address) -> tuple[str, str | None]:
    """``stream/S`` -> ("S", None); ``kv/B`` -> ("KV_B", None); ``consumer/S/C`` -> ("S", "C")."""
    names = address.names
    return (stream_name(address), None) if address.kind in STREAM_KINDS else (names[0], names[1])


def steps_for(change: Change) -> list[Step]:
    """The API requests one change needs, in order (a replace is a delete and a create)."""
    if change.address.kind is KV_ENTRY:  # a publish to the key (entries.py), expecting the revision planned
        from .entries import kv_subject

        return [Step(change.address, str(change.action), kv_subject(*change.address.names), change.desired,
                     change=change)]
    stream, consumer = stream_and_consumer(change.address)
    if consumer is None:
        delete = Step(change.address, "delete", f"STREAM.DELETE.{stream}")
        update = Step(change.address, "update", f"STREAM.UPDATE.{stream}", change.desired)
        if (change.desired or {}).get("sealed") and change.action in (Action.CREATE, Action.REPLACE):
            # The server refuses to create a sealed stream: create it open, then seal it by an update.
            unsealed = {k: v for k, v in change.desired.items() if k != "sealed"}
            create = Step(change.address, "create", f"STREAM.CREATE.{stream}", unsealed)
            update.after = [create]
            return [delete, create, update] if change.action == Action.REPLACE else [create, update]
        create = Step(change.address, "create", f"STREAM.CREATE.{stream}", change.desired)
        first = scale_before_move(change) if change.action in (Action.UPDATE, Action.ADOPT) else None
        if first is not None:  # the server refuses to scale and move in one update: two, in order
            half = Step(change.address, "update", f"STREAM.UPDATE.{stream}", first)
            update.after = [half]
            return [half, update]
    else:
        delete = Step(change.address, "delete", f"CONSUMER.DELETE.{stream}.{consumer}")
        config = {"durable_name": consumer, **(change.desired or {})}
        create = Step(change.address, "create", f"CONSUMER.CREATE.{stream}.{consumer}",
                      {"stream_name": stream, "config": config, "action": "create"})
        update = Step(change.address, "update", f"CONSUMER.CREATE.{stream}.{consumer}",
                      {"stream_name": stream, "config": config, "action": "update"})
        if change.action == Action.UPDATE and any(d.path == "pause_until" for d in change.diff):
            # An update never changes pause_until (measured on 2.11-2.15): the PAUSE request does.
            until = config.get("pause_until")
            pause = Step(change.address, "pause", f"CONSUMER.PAUSE.{stream}.{consumer}",
                         {"pause_until": until} if until else None, after=[update])
            return [update, pause]
    return {Action.CREATE: [create], Action.UPDATE: [update], Action.ADOPT: [update], Action.REPLACE: [delete, create],
            Action.DELETE: [delete]}.get(change.action, [])


def scale_before_move(change: Change) -> dict[str, Any] | None:
    """nats-server refuses to change num_replicas and placement in one update ("can not move and
    scale a stream in a single update"): the config of a first update doing one of them, or None.

    Scaling down happens first where the stream is (the new placement may fit fewer nodes); scaling
    up happens last, once the stream has moved (the old placement may fit fewer nodes).
    """
    replicas = next((d for d in change.diff if d.path == "num_replicas"), None)
    moves = [d for d in change.diff if d.path.split(".")[0] == "placement"]
    if replicas is None or not moves or change.desired is None:
        return None
    first = dict(change.desired)
    if (replicas.after or 1) > (replicas.before or 1):
        first["num_replicas"] = replicas.before
        return first
    placement = dict(first.get("placement") or {})
    for d in moves:  # back to the live placement, one key at a time
        key = d.path.partition(".")[2]
        if not key:
            placement = dict(d.before or {})
        elif d.before is None:
            placement.pop(key, None)
        else:
            placement[key] = d.before
    first.pop("placement", None)
    if placement:
        first["placement"] = placement
    return first


def origins(step: Step) -> set[str]:
    """The streams of this account a stream write reads from: its mirror's and its sources' origins."""
    config = step.payload or {}
    return {local_origin(origin) for origin in [config.get("mirror"), *(config.get("sources") or [])]}


def ordered_steps(changes: list[Change]) -> list[list[Step]]:
    """The requests of ``changes`` in three phases, deletes, writes, then KV entries, with dependencies
    set inside each."""
    steps = [s for c in changes if c.changes_something for s in steps_for(c)]
    entries = [s for s in steps if s.address.kind is KV_ENTRY]
    steps = [s for s in steps if s.address.kind is not KV_ENTRY]
    deletes = [s for s in steps if s.verb == "delete"]
    consumer_deletes: dict[str, list[Step]] = {}
    for step in deletes:
        if not step.is_stream:
            consumer_deletes.setdefault(stream_and_consumer(step.address)[0], []).append(step)
    for step in deletes:
        if step.is_stream:
            step.after = consumer_deletes.get(stream_and_consumer(step.address)[0], [])
    writes = [s for s in steps if s.verb != "delete"]
    stream_writes = {stream_and_consumer(s.address)[0]: s for s in writes if s.is_stream}
    for step in writes:
        stream = stream_and_consumer(step.address)[0]
        if step.is_stream:
            needed = sorted(name for name in origins(step) - {stream} if name in stream_writes)
            step.after = [*step.after, *(stream_writes[name] for name in needed
                                         if not _reads(stream_writes[name], stream))]
        elif stream in stream_writes:
            step.after = [*step.after, stream_writes[stream]]
    return [deletes, writes, entries]


def _reads(step: Step, stream: str) -> bool:
    """True when ``step`` (a stream write) reads from ``stream``: a cycle, left to the server to refuse."""
    return stream in origins(step)


async def execute(api: JetStreamApi, changes: list[Change], *, concurrency: int = WRITE_CONCURRENCY,
                  settle: Callable[[Step], Awaitable[None]] | None = None,
                  accepted: Callable[[Step], None] | None = None, entries: EntryWriter | None = None) -> list[Step]:
    """Apply ``changes``; raises ApplyFailed (with every step's status) at the first failed request, or
    when cancelled (then the requests in flight are left unanswered: "no answer").

    ``accepted`` sees each step the server accepted, as its reply arrives (verify's head start).
    ``settle`` runs after each successful request, before what depends on it starts (on a cluster:
    wait until what it wrote has converged); its failure stops the apply like a failed request.
    ``entries`` writes the KV entries' steps (the declared values, jsctl's marks).
    """
    phases = ordered_steps(changes)
    steps = [s for phase in phases for s in phase]
    stopped = False

    async def send(step: Step) -> None:
        nonlocal stopped
        step.status = NO_ANSWER
        try:
            if step.address.kind is KV_ENTRY:
                assert entries is not None and step.change is not None, "a KV entry to write and no EntryWriter"
                step.reply = await entries.write(api, step.change)
            else:
                step.reply = await api.request(step.subject, step.payload, timeout=WRITE_TIMEOUT_S)
        except JsctlError as exc:
            step.status, step.error, stopped = FAILED, getattr(exc, "description", str(exc)), True
            return
        step.status = DONE
        if accepted is not None:
            accepted(step)

    async def confirm(step: Step) -> None:
        nonlocal stopped
        # A KV write needs no settling: its PubAck comes once a quorum of the bucket's replicas stored it.
        if settle is not None and step.status == DONE and step.address.kind is not KV_ENTRY:
            try:
                await settle(step)
            except JsctlError as exc:
                step.status, step.error, stopped = FAILED, f"accepted, but {exc}", True

    # Every delete first: a replace deletes before it creates, a new stream may take the subjects of a deleted one.
    for phase in phases:
        try:
            await _in_dependency_order(phase, send, confirm, concurrency, lambda: stopped)
        except asyncio.CancelledError:  # --timeout or Ctrl-C: say what was done
            raise ApplyFailed(steps, interrupted=True) from None
        if stopped:
            raise ApplyFailed(steps)
    return steps


async def _in_dependency_order(phase: list[Step], send: Callable[[Step], Awaitable[None]],
                              confirm: Callable[[Step], Awaitable[None]], limit: int,
                              stopped: Callable[[], bool]) -> None:
    """``send`` then ``confirm`` each step once every step of ``phase`` it waits for is done, with up to
    ``limit`` sends at a time, starting none once ``stopped()``; returns when nothing runs any more.

    A step gets its task when it can start: thousands of tasks parked on a semaphore would cost a
    scan of its waiters at every release (measured on CPython 3.11: ~0.05 s of 5,000 steps).
    """
    members = {id(s) for s in phase}
    blockers = {id(s): sum(id(d) in members for d in s.after) for s in phase}
    dependents: dict[int, list[Step]] = {}
    for step in phase:
        for dependency in step.after:
            dependents.setdefault(id(dependency), []).append(step)
    ready = deque(s for s in phase if not blockers[id(s)])
    tasks: list[asyncio.Future] = []
    sending = running = 0
    broken = False  # a step raised something unexpected: start nothing more, raise it once all have ended
    idle = asyncio.Event()

    def launch() -> None:
        nonlocal sending, running
        while ready and sending < limit and not (broken or stopped()):
            sending, running = sending + 1, running + 1
            tasks.append(asyncio.ensure_future(run(ready.popleft())))

    async def run(step: Step) -> None:
        nonlocal sending, running, broken
        try:
            try:
                await send(step)
            finally:
                sending -= 1
                launch()
            await confirm(step)
            if step.status == DONE:
                for waiting in dependents.get(id(step), ()):
                    blockers[id(waiting)] -= 1
                    if not blockers[id(waiting)]:
                        ready.append(waiting)
                launch()
        except BaseException:
            broken = True
            raise
        finally:
            running -= 1
            if not running:
                idle.set()

    launch()
    try:
        if running:
            await idle.wait()
    except asyncio.CancelledError:  # interrupted: start nothing more, stop waiting for answers
        broken = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    await asyncio.gather(*tasks)  # every task has ended: this raises what one raised unexpectedly
