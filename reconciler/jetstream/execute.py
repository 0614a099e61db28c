"""Apply the JetStream part of a plan: ordered phases, concurrent requests inside each phase.

Order: consumer deletes, then stream deletes (a replace deletes first), then stream writes with
origins before the mirrors and sources that read them, then consumer writes. The first failed
request stops the apply after the requests already in flight: every step is reported as done,
failed or not done, and since the live servers are the truth, the next plan is exactly the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import JsctlError
from ..jsapi import JetStreamApi
from ..plan import CREATE, DELETE, REPLACE, UPDATE, Change
from .observe import CONCURRENCY

DONE, FAILED, NOT_DONE = "done", "failed", "not done"


@dataclass
class Step:
    address: str
    verb: str  # delete | create | update
    subject: str
    payload: dict[str, Any] | None = None
    status: str = NOT_DONE
    error: str = ""
    second: bool = False  # the second half of a split stream update: runs after every stream's first

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
    first = scale_before_move(change) if consumer is None and change.action == UPDATE else None
    if first is not None:
        return [Step(change.address, "update", update.subject, first), replace(update, second=True)]
    return {CREATE: [create], UPDATE: [update], REPLACE: [delete, create], DELETE: [delete]}.get(change.action, [])


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


def phases(changes: list[Change]) -> list[list[Step]]:
    steps = [s for c in changes if c.changes_something for s in steps_for(c)]
    deletes = [s for s in steps if s.verb == "delete"]
    writes = [s for s in steps if s.verb != "delete" and not s.second]
    return [
        [s for s in deletes if not s.is_stream],
        [s for s in deletes if s.is_stream],
        *stream_levels([s for s in writes if s.is_stream]),
        [s for s in steps if s.second],
        [s for s in writes if not s.is_stream],
    ]


async def run_phase(api: JetStreamApi, steps: list[Step], limit: int) -> bool:
    """Send the phase's requests, ``limit`` in flight; after a failure, start no new ones."""
    semaphore = asyncio.Semaphore(limit)
    failed = False

    async def one(step: Step) -> None:
        nonlocal failed
        async with semaphore:
            if failed:
                return
            try:
                await api.request(step.subject, step.payload)
            except JsctlError as exc:
                step.status, step.error, failed = FAILED, getattr(exc, "description", str(exc)), True
            else:
                step.status = DONE

    await asyncio.gather(*(one(s) for s in steps))
    return not failed


async def execute(api: JetStreamApi, changes: list[Change], *, concurrency: int = CONCURRENCY,
                  settle: Callable[[list[Step]], Awaitable[None]] | None = None) -> list[Step]:
    """Apply ``changes``; raises ApplyFailed (with every step's status) at the first failed request.

    ``settle`` runs after each phase (on a cluster: wait until what it wrote has converged).
    """
    ordered = [phase for phase in phases(changes) if phase]
    all_steps = [s for phase in ordered for s in phase]
    for phase in ordered:
        if not await run_phase(api, phase, concurrency):
            raise ApplyFailed(all_steps)
        if settle is not None:
            await settle(phase)
    return all_steps
