"""``JetStreamSession`` holds one connection for a whole plan (and apply), so a CLI command can join
its changes with another planner's into one Plan and apply them with one exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..plan.address import JETSTREAM
from .client import JetStreamApi
from .connect import connect_nats
from .normalize import NormalizeCache
from .ownership import NO_OWNER, Ownership
from .settings import NatsSettings, api_prefix

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ..manifest.model import Desired
    from ..plan.model import Change, Plan
    from .execute import Step
    from .observe import Live


class JetStreamSession:
    def __init__(self, settings: NatsSettings, *, name: str = "jsctl"):
        self.settings, self.name = settings, name
        self.api: JetStreamApi | None = None
        self.live: Live | None = None
        self.normalized = NormalizeCache()  # the plan's normalized configs, found again by apply's verify
        self._declared: tuple[Desired, Live, Desired] | None = None

    async def __aenter__(self) -> JetStreamSession:
        self.api = JetStreamApi(await connect_nats(self.settings, name=self.name), prefix=api_prefix(self.settings))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.api is not None:
            await self.api.nc.close()

    async def observe(self, streams: Iterable[str] | None = None, *, entries_of: Desired | None = None,
                      prune: bool = False) -> Live:
        """Read the live account (or only ``streams`` and their consumers) and the KV keys ``entries_of``
        declares (with ``prune``, every key of its buckets); kept for apply (its verify) and for a plan's basis."""
        from .entries import observe_entries
        from .observe import observe as read_live

        assert self.api is not None
        self.live = await read_live(self.api, streams)
        if entries_of is not None:
            self.live.entries = await observe_entries(self.api, entries_of, self.live.streams, prune=prune)
        return self.live

    def declared(self, desired: Desired) -> Desired:
        """``desired`` with its buckets as their backing streams (bucket_streams.as_streams) for the live
        account read last: the same object for a plan, its basis and its apply's verify."""
        from .bucket_streams import as_streams

        assert self.live is not None, "observe() first"
        if self._declared is None or self._declared[0] is not desired or self._declared[1] is not self.live:
            self._declared = (desired, self.live, as_streams(desired, self.live.version, self.live.streams))
        return self._declared[2]

    async def plan(self, desired: Desired, *, prune: bool = False, ownership: Ownership = NO_OWNER) -> Plan:
        from .bucket_streams import count_objects
        from .entries import planned_entries
        from .plan import plan_jetstream

        live = await self.observe(entries_of=desired, prune=prune)
        plan = plan_jetstream(self.declared(desired), live, prune=prune, ownership=ownership,
                              normalized=self.normalized)
        assert self.api is not None
        await count_objects(self.api, plan)
        entries = planned_entries(desired, live, plan, ownership, prune=prune)
        plan.changes += entries.changes
        plan.errors += entries.errors
        return plan

    async def apply(self, desired: Desired, changes: list[Change], *, prune: bool = False,
                    ownership: Ownership = NO_OWNER, progress: Callable[[str], None] | None = None,
                    converge_timeout: float | None = None) -> list[Step]:
        """Execute the JetStream changes, then verify that re-planning them finds nothing left.

        On a cluster, each write waits until its replicas converged (``converge_timeout`` seconds at
        most, default converge.DEFAULT_TIMEOUT_S), telling ``progress`` while it waits. A stream written that
        reads another domain or account waits as long for contact with that origin (origins.py).
        """
        from .converge import DEFAULT_TIMEOUT_S, settler
        from .entries import EntryWriter, verify_entries
        from .execute import DONE, execute, stream_and_consumer
        from .origins import ORIGIN_WAIT_S, has_external_origin, wait_in_contact
        from .verify import Verifier, verify, written_entries

        assert self.api is not None and self.live is not None, "plan() first"
        ours = [c for c in changes if c.address.target == JETSTREAM]
        clustered = self.live.identity.cluster
        settle = (settler(self.api, timeout=DEFAULT_TIMEOUT_S if converge_timeout is None else converge_timeout,
                          progress=progress) if clustered else None)
        desired = self.declared(desired)
        verifier = Verifier(desired, self.live, self.normalized)
        writer = EntryWriter({entry.address: entry.value for entry in desired.entries.values()}, ownership)
        steps = await execute(self.api, ours, settle=settle, accepted=verifier.accepted, entries=writer)
        verify(desired, self.live, steps, prune=prune, ownership=ownership, normalized=self.normalized)
        await verify_entries(self.api, written_entries(desired, steps))
        reading_elsewhere = {stream_and_consumer(s.address)[0] for s in steps if s.is_stream and s.status == DONE
                             and s.verb in ("create", "update") and has_external_origin(s.payload or {})}
        await wait_in_contact(self.api, sorted(reading_elsewhere),
                              timeout=ORIGIN_WAIT_S if converge_timeout is None else converge_timeout)
        return steps
