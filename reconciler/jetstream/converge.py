"""Waiting until a clustered stream or consumer has converged after apply created or changed it.

On a JetStream cluster, a create or an update of ``num_replicas`` or ``placement`` is answered
before its raft group has settled: peers are added, caught up and removed afterwards, and for a
moment there may be no leader. Apply therefore waits, per changed resource, until a leader is
elected and exactly ``num_replicas`` peers are current, reporting progress and giving up at a
deadline; verify then checks what the server stored. On a single server a resource converges at once, so callers
only wait when the server reports a cluster (``ServerIdentity.cluster``).

A node that is down cannot catch up, and apply must still work while one is (a new consumer on an
R3 stream). After a grace period, a peer that looks unreachable (marked offline, silent for
``UNREACHABLE_AFTER_S``, or never heard from) is done without, as long as the leader and the
current peers form a quorum; the progress output names it.

The replica state is read from ``$JS.API.STREAM.INFO`` / ``CONSUMER.INFO`` replies (their
``cluster`` object: ``leader`` and the other peers under ``replicas`` with ``current``,
``offline``, ``lag`` and ``active``, the nanoseconds since the peer was last heard from, 0 if
never); during an election those requests may time out, which counts as "not converged yet".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import JsctlError

if TYPE_CHECKING:
    from .client import JetStreamApi

DEFAULT_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.25
REQUEST_TIMEOUT_S = 2.0  # short, so an election without answers still shows progress
FIRST_PROGRESS_AFTER_S = 1.0
UNREACHABLE_AFTER_S = 3.0  # raft peers hear from each other every second
UNREACHABLE_GRACE_S = 5.0  # how long to wait for every peer before doing without unreachable ones
PROGRESS_EVERY_S = 2.0
CONCURRENT_WAITS = 64


STANDALONE = "(standalone)"


class ConvergenceTimeout(JsctlError):
    """A resource did not converge before the deadline (the change itself was accepted)."""


@dataclass(frozen=True)
class Peer:
    name: str
    current: bool
    offline: bool = False
    lag: int = 0
    active_ns: int = 0  # since last heard from; 0: never

    @property
    def healthy(self) -> bool:
        return self.current and not self.offline and not self.silent

    @property
    def silent(self) -> bool:
        return self.active_ns > UNREACHABLE_AFTER_S * 1e9

    @property
    def unreachable(self) -> bool:
        return self.offline or self.silent or (not self.current and not self.active_ns)

    def describe(self) -> str:
        if self.offline or self.silent:
            return f"{self.name} offline"
        if self.unreachable:
            return f"{self.name} not heard from"
        if not self.current:
            return f"{self.name} catching up" + (f" (lag {self.lag})" if self.lag else "")
        return f"{self.name} current"


@dataclass(frozen=True)
class ReplicaSet:
    """Who holds a stream or consumer right now, and how many peers it should have."""

    expected: int
    leader: str | None
    followers: tuple[Peer, ...] = ()

    @property
    def converged(self) -> bool:
        return (bool(self.leader) and len(self.followers) == self.expected - 1
                and all(p.healthy for p in self.followers))

    def without_unreachable(self) -> tuple[str, ...] | None:
        """Converged but for unreachable peers that a quorum can do without: their names (else None)."""
        if not self.leader or len(self.followers) != self.expected - 1:
            return None
        missing = [p for p in self.followers if not p.healthy]
        if not all(p.unreachable for p in missing) or self.expected - len(missing) <= self.expected // 2:
            return None
        return tuple(p.name for p in missing)

    def describe(self) -> str:
        head = f"leader {self.leader}" if self.leader else "no leader yet"
        peers = ", ".join(p.describe() for p in self.followers)
        count = f"{1 + len(self.followers) if self.leader else len(self.followers)}/{self.expected} peers"
        return f"{head}; {count}" + (f": {peers}" if peers else "")


def replica_set(info: dict[str, Any], expected: int) -> ReplicaSet:
    """The replica state in a STREAM.INFO or CONSUMER.INFO reply (pure)."""
    if "cluster" not in info:  # a consumer on a single server: nothing to wait for
        return ReplicaSet(expected=1, leader=STANDALONE)
    cluster = info["cluster"] or {}
    followers = tuple(Peer(name=p.get("name", "?"), current=bool(p.get("current")), offline=bool(p.get("offline")),
                           lag=int(p.get("lag") or 0), active_ns=int(p.get("active") or 0))
                      for p in cluster.get("replicas") or [])
    return ReplicaSet(expected=max(expected, 1), leader=cluster.get("leader") or None, followers=followers)


def stream_replicas(config: dict[str, Any]) -> int:
    return max(int(config.get("num_replicas") or 1), 1)


def consumer_replicas(config: dict[str, Any], stream_config: dict[str, Any]) -> int:
    """A consumer's own ``num_replicas``, or its stream's when 0/absent (the server's rule)."""
    return int(config.get("num_replicas") or 0) or stream_replicas(stream_config)


async def wait_converged(api: JetStreamApi, address: str, info_subject: str, expected: int, *,
                         timeout: float = DEFAULT_TIMEOUT_S, progress: Callable[[str], None] | None = None,
                         interval: float = POLL_INTERVAL_S) -> ReplicaSet:
    """Poll ``info_subject`` (e.g. ``STREAM.INFO.NAME``) until its replica set converged.

    ``progress`` gets a line about the state seen after a second, then every ``PROGRESS_EVERY_S``.
    Returns the replica set (possibly without unreachable peers, see the module's docstring);
    raises ConvergenceTimeout naming the last state seen.
    """
    started = time.monotonic()
    deadline = started + timeout
    next_progress = started + FIRST_PROGRESS_AFTER_S  # quick convergence prints nothing
    while True:
        try:
            remaining = deadline - time.monotonic()
            state = replica_set(await api.request(info_subject, timeout=max(min(REQUEST_TIMEOUT_S, remaining), 0.1)),
                                expected)
            if state.converged:
                return state
            seen = state.describe()
            gone = state.without_unreachable()
            if gone and time.monotonic() - started >= UNREACHABLE_GRACE_S:
                if progress:
                    progress(f"{address}: converged without {', '.join(gone)} (unreachable): {seen}")
                return state
        except JsctlError as exc:  # no answer during an election, or no leader to answer yet
            seen = f"no answer: {exc}"
        now = time.monotonic()
        if now >= deadline:
            raise ConvergenceTimeout(f"{address}: replicas not converged after {timeout:.0f}s: {seen}")
        if progress and now >= next_progress:
            progress(f"{address}: waiting for replicas ({seen}; {now - started:.0f}s)")
            next_progress = now + PROGRESS_EVERY_S
        await asyncio.sleep(min(interval, deadline - now))


def settler(api: JetStreamApi, *, timeout: float = DEFAULT_TIMEOUT_S,
            progress: Callable[[str], None] | None = None) -> Callable[[Any], Awaitable[None]]:
    """For execute(): after each write, wait until the stream or consumer it wrote has converged.

    At most ``CONCURRENT_WAITS`` resources are polled at once, so a large apply does not flood
    the server with INFO requests.
    """
    stream_sizes: dict[str, int] = {}
    waiting = asyncio.Semaphore(CONCURRENT_WAITS)

    async def replicas_of_stream(stream: str) -> int:
        if stream not in stream_sizes:
            stream_sizes[stream] = stream_replicas((await api.request(f"STREAM.INFO.{stream}"))["config"])
        return stream_sizes[stream]

    async def wait_for_step(step: Any) -> None:
        if step.subject.startswith("STREAM."):
            stream = step.subject.rsplit(".", 1)[1]
            stream_sizes[stream] = stream_replicas(step.payload or {})
            await wait_converged(api, step.address, f"STREAM.INFO.{stream}", stream_sizes[stream],
                                 timeout=timeout, progress=progress)
            return
        stream, consumer = step.subject.split(".")[-2:]
        config = (step.payload or {}).get("config") or {}
        expected = int(config.get("num_replicas") or 0) or await replicas_of_stream(stream)
        await wait_converged(api, step.address, f"CONSUMER.INFO.{stream}.{consumer}", expected,
                             timeout=timeout, progress=progress)

    async def settle(step: Any) -> None:
        if step.verb in ("create", "update") and step.status == "done":
            async with waiting:
                await wait_for_step(step)

    return settle
