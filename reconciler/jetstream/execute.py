"""Apply the JetStream part of a plan: every request as soon as what it depends on is done.

Dependencies: a stream is deleted after its consumers; streams are written after every stream
delete (a replace deletes first; a new stream may take a deleted one's subjects) and after the
origins (mirror, sources) written with them; a consumer is written after its stream. Up to
``concurrency`` requests are in flight. The first failed request stops the apply once the
requests already in flight have answered: each step is reported as done, failed or not done,
and since the live servers are the truth, the next plan is exactly the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import JsctlError
from ..jsapi import JetStreamApi
from ..plan import ADOPT, CREATE, DELETE, REPLACE, UPDATE, Change
from .observe import CONCURRENCY

DONE, FAILED, NOT_DONE = "done", "failed", "not done"
# On a cluster with a node down, a create is answered once its new raft group has a leader: 4-8 s
# when the first choice was the dead node (measured, 2.12.8), past the API's usual 5 s.
WRITE_TIMEOUT_S = 30.0


@dataclass
class Step:
    address: str
    verb: str  # delete | create | update
    subject: str
    payload: dict[str, Any] | None = None
    status: str = NOT_DONE
    error: str = ""
    after: list[Step] = field(default_factory=list, repr=False)  # steps that must be done first
    second: bool = False  # the second half of a stream update split in two (scale_before_move)

    @property
    def is_stream(self) -> bool:
        return self.address.startswith("stream/")

    def describe(self) -> str:
        return f"{self.verb} {self.address}" + (f": {self.error}" if self.error else "")


class ApplyFailed(JsctlError):
    def __init__(self, steps: list[Step]):
        self.steps = steps
        failed = [s for s in steps if s.status == FAILED]
        done = sum(s.status == DONE for s in steps)
        super().__init__(f"apply stopped at {failed[0].describe()} ({done} of {len(steps)} steps done; "
                         f"`jsctl plan` shows what is left)")

    def report(self) -> str:
        return "\n".join(f"  {s.status:>8}  {s.describe()}" for s in self.steps)


def _parse(address: str) -> tuple[str, str | None]:
    parts = address.split("/")
    return (parts[1], None) if parts[0] == "stream" else (parts[1], parts[2])


def steps_for(change: Change) -> list[Step]:
    """The API requests one change needs, in order (a replace is a delete and a create)."""
    stream, consumer = _parse(change.address)
    if consumer is None:
        delete = Step(change.address, "delete", f"STREAM.DELETE.{stream}")
        create = Step(change.address, "create", f"STREAM.CREATE.{stream}", change.desired)
        update = Step(change.address, "update", f"STREAM.UPDATE.{stream}", change.desired)
    else:
        delete = Step(change.address, "delete", f"CONSUMER.DELETE.{stream}.{consumer}")
        config = {"durable_name": consumer, **(change.desired or {})}
        create = Step(change.address, "create", f"CONSUMER.CREATE.{stream}.{consumer}",
                      {"stream_name": stream, "config": config, "action": "create"})
        update = Step(change.address, "update", f"CONSUMER.CREATE.{stream}.{consumer}",
                      {"stream_name": stream, "config": config, "action": "update"})
    first = scale_before_move(change) if consumer is None and change.action in (UPDATE, ADOPT) else None
    if first is not None:
        return [Step(change.address, "update", update.subject, first), replace(update, second=True)]
    return {CREATE: [create], UPDATE: [update], ADOPT: [update], REPLACE: [delete, create],
            DELETE: [delete]}.get(change.action, [])


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


def stream_levels(steps: list[Step]) -> list[list[Step]]:
    """Stream writes grouped so that a stream comes after the origins (mirror, sources) written with it."""
    by_name = {_parse(s.address)[0]: s for s in steps}
    needs = {}
    for name, step in by_name.items():
        config = step.payload or {}
        origins = {(config.get("mirror") or {}).get("name")} | {s.get("name") for s in config.get("sources") or []}
        needs[name] = origins & (by_name.keys() - {name})
    levels, placed = [], set()
    while len(placed) < len(by_name):
        ready = [n for n in by_name if n not in placed and needs[n] <= placed]
        if not ready:  # a cycle: the server will say what is wrong with it
            ready = [n for n in by_name if n not in placed]
        levels.append([by_name[n] for n in ready])
        placed.update(ready)
    return levels


def ordered_steps(changes: list[Change]) -> list[Step]:
    """All requests of ``changes`` with their dependencies set, listed in an order that respects them."""
    steps = [s for c in changes if c.changes_something for s in steps_for(c)]
    consumer_deletes = [s for s in steps if s.verb == "delete" and not s.is_stream]
    stream_deletes = [s for s in steps if s.verb == "delete" and s.is_stream]
    seconds = {_parse(s.address)[0]: s for s in steps if s.second}
    levels = stream_levels([s for s in steps if s.verb != "delete" and s.is_stream and not s.second])
    consumer_writes = [s for s in steps if s.verb != "delete" and not s.is_stream]
    for step in stream_deletes:
        step.after = [c for c in consumer_deletes if _parse(c.address)[0] == _parse(step.address)[0]]
    written: dict[str, Step] = {}
    for level in levels:
        before = list(written.values())  # origins are among the earlier levels
        for step in level:
            step.after = [*stream_deletes, *before]
        written.update({_parse(s.address)[0]: s for s in level})
    for name, step in seconds.items():  # after its first half (and its convergence, on a cluster)
        step.after = [written[name]]
        written[name] = step
    for step in consumer_writes:
        stream = written.get(_parse(step.address)[0])
        own_delete = [c for c in consumer_deletes if c.address == step.address]
        step.after = [*own_delete, *([stream] if stream else [])]
    return [*consumer_deletes, *stream_deletes, *(s for level in levels for s in level), *seconds.values(),
            *consumer_writes]


async def execute(api: JetStreamApi, changes: list[Change], *, concurrency: int = CONCURRENCY,
                  settle: Callable[[Step], Awaitable[None]] | None = None) -> list[Step]:
    """Apply ``changes``; raises ApplyFailed (with every step's status) at the first failed request.

    ``settle`` runs after each successful write, before what depends on it starts (on a cluster:
    wait until the stream or consumer has converged); a failure there stops the apply like a
    failed request.
    """
    steps = ordered_steps(changes)
    finished = {id(s): asyncio.Event() for s in steps}
    semaphore = asyncio.Semaphore(concurrency)
    stopped = False

    async def run(step: Step) -> None:
        nonlocal stopped
        try:
            for dependency in step.after:
                await finished[id(dependency)].wait()
            if stopped or any(d.status != DONE for d in step.after):
                return
            async with semaphore:
                if stopped:
                    return
                try:
                    await api.request(step.subject, step.payload, timeout=WRITE_TIMEOUT_S)
                except JsctlError as exc:
                    step.status, step.error, stopped = FAILED, getattr(exc, "description", str(exc)), True
                    return
            try:
                if settle is not None and step.verb != "delete":
                    await settle(step)  # outside the semaphore: waiting is not a request in flight
            except JsctlError as exc:
                step.status, step.error, stopped = FAILED, str(exc), True
            else:
                step.status = DONE
        finally:
            finished[id(step)].set()

    await asyncio.gather(*(run(s) for s in steps))
    if stopped:
        raise ApplyFailed(steps)
    return steps
