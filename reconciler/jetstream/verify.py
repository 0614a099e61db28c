"""After apply: read back what was touched and plan again; anything left is the server's doing.

nats-server 2.10 and 2.11 drop fields they do not know without an error, and every version may
adjust a value (e.g. sealing forces deny_delete): such a field is named as an error, never hidden.
"""

from __future__ import annotations

from ..errors import JsctlError
from ..jsapi import JetStreamApi
from ..manifest.model import Desired
from ..plan import Change
from .diff import plan_jetstream
from .observe import observe


class VerifyFailed(JsctlError):
    """The live state after apply is not what was applied."""


def describe_leftover(change: Change) -> str:
    if not change.diff:
        return f"{change.address}: still needs {change.action} after apply"
    fields = ", ".join(f"{d.path} (sent {d.after!r}, stored {d.before!r})" for d in change.diff)
    return f"{change.address}: the server did not keep {fields}"


async def verify(api: JetStreamApi, desired: Desired, applied: list[Change], *, prune: bool = False) -> None:
    touched = {c.address.split("/")[1] for c in applied if c.changes_something}
    if not touched:
        return
    live = await observe(api, touched)
    subset = Desired({n: r for n, r in desired.streams.items() if n in touched},
                     {k: r for k, r in desired.consumers.items() if k[0] in touched})
    leftovers = plan_jetstream(subset, live, prune=prune).pending
    if leftovers:
        raise VerifyFailed("verify after apply: " + "; ".join(describe_leftover(c) for c in leftovers))
