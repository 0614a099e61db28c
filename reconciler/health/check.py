"""Read the declared streams and consumers from the server and judge each: its measures and its drift."""

from __future__ import annotations

from ..jetstream.session import JetStreamSession
from ..jetstream.settings import NatsSettings
from ..manifest.model import Desired
from ..plan.model import Action
from .evaluate import CONSUMER_MEASURES, STREAM_MEASURES, Result, add_drift, evaluate


async def check_health(settings: NatsSettings, desired: Desired, flags: dict[str, str | None]) -> list[Result]:
    """One result per declared resource (streams first), each with its measures and any drift from its manifest."""
    from ..jetstream.bucket_streams import as_streams, backing_names
    from ..jetstream.plan import plan_jetstream
    from ..plan.render.common import named  # a bucket's drift by the field its manifest writes too

    async with JetStreamSession(settings, name="jsctl check") as session:
        live = await session.observe(set(desired.streams) | backing_names(desired)
                                     | {stream for stream, _ in desired.consumers})
    desired = as_streams(desired, live.version, live.streams)  # a bucket is checked as its backing stream
    # Only resources from manifests have a config to compare; named-only ones are checked for health.
    from_manifests = Desired({n: r for n, r in desired.streams.items() if r.config},
                             {k: r for k, r in desired.consumers.items() if r.config})
    drift = {c.address: [named(c.address.kind)(d.path) for d in c.diff] or [c.action]
             for c in plan_jetstream(from_manifests, live).changes if c.action in (Action.UPDATE, Action.REPLACE)}
    results = [evaluate(r.address, live.streams.get(name), STREAM_MEASURES, flags)
               for name, r in sorted(desired.streams.items())]
    results += [evaluate(r.address, live.consumers.get(key), CONSUMER_MEASURES, flags)
                for key, r in sorted(desired.consumers.items())]
    for result in results:
        add_drift(result, drift.get(result.address, []))
    return results
