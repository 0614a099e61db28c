"""After apply: each stream written that mirrors or sources a stream of another JetStream domain or account
(an ``external`` origin, read through that domain's or account's API prefix) must be in contact with it.

The server accepts any API prefix and reports afterwards whether it reached the origin: in STREAM.INFO, each
``mirror`` / ``sources`` entry has ``active``, the nanoseconds since the origin was last heard from (-1 until
first contact), and ``error`` when the origin answered with one (e.g. stream not found). An API prefix nobody
answers stays at -1 without an error (measured on 2.10 through 2.15). Apply waits, bounded, until every
external origin of what it wrote was heard from, else names those that were not.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from ..errors import JsctlError

if TYPE_CHECKING:
    from .client import JetStreamApi

ORIGIN_WAIT_S = 10.0  # first contact takes under a second on loopback (measured); a leaf over a WAN, longer
POLL_INTERVAL_S = 0.25


class OriginsUnreachable(JsctlError):
    """A stream's external mirror or source was not heard from after apply."""


def has_external_origin(config: dict[str, Any]) -> bool:
    return any((origin or {}).get("external") for origin in [config.get("mirror"), *(config.get("sources") or [])])


def not_in_contact(info: dict[str, Any]) -> list[str]:
    """The external origins in a STREAM.INFO reply that were not heard from, each as ``source NAME via API:
    why`` (pure)."""
    entries = [("mirror", info.get("mirror"))] + [("source", entry) for entry in info.get("sources") or []]
    found = []
    for role, entry in entries:
        if not entry or not entry.get("external"):
            continue
        error = (entry.get("error") or {}).get("description")
        if error or int(entry.get("active", -1)) < 0:
            found.append(f"{role} {entry.get('name')} via {entry['external'].get('api')}: "
                         f"{error or 'no contact yet (is that domain or account reachable from here?)'}")
    return found


async def wait_in_contact(api: JetStreamApi, streams: list[str], *, timeout: float = ORIGIN_WAIT_S) -> None:
    """Poll the STREAM.INFO of each of ``streams`` until all their external origins were heard from; raise
    OriginsUnreachable naming those that were not after ``timeout`` seconds."""

    async def left_of(stream: str) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            left = not_in_contact(await api.request(f"STREAM.INFO.{stream}"))
            if not left or time.monotonic() >= deadline:
                return [f"stream/{stream}: {what}" for what in left]
            await asyncio.sleep(min(POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))

    left = [what for found in await asyncio.gather(*(left_of(s) for s in streams)) for what in found]
    if left:
        raise OriginsUnreachable(f"verify after apply: not in contact after {timeout:g}s with " + "; ".join(left))
