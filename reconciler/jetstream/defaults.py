"""What nats-server fills in for a field the request left out, per server version.

Measured on nats-server 2.12.8 by creating minimal streams and consumers and reading them back
(tests/matrix/test_matrix_reconcile.py keeps it honest on every supported version); the rows with a version
are from nats-server's ``setStreamConfigDefaults`` / ``setConsumerConfigDefaults`` history.
Zero values (false, 0, "", empty lists and maps) need no row: normalization treats them as omitted.
A row is needed too where the server omits its default from INFO but a manifest may spell it out
(``persist_mode: default``, ``priority_policy: none``: Go's omitempty of an enum's zero value).
tests/matrix/test_explicit_defaults.py declares every field at its default on every version.
"""

from __future__ import annotations

from typing import Any

from ..manifest.model import inherited_limits
from .capabilities import Version

SECOND = 1_000_000_000
DEFAULT_DUPLICATE_WINDOW = 120 * SECOND
DEFAULT_ACK_WAIT = 30 * SECOND
DEFAULT_MAX_ACK_PENDING = 1000
DEFAULT_MAX_WAITING = 512
DEFAULT_PINNED_TTL = 120 * SECOND

# field -> (value, first version that fills it in)
STREAM_DEFAULTS: dict[str, tuple[Any, Version]] = {
    "retention": ("limits", (2, 10, 0)),
    "max_consumers": (-1, (2, 10, 0)),
    "max_msgs": (-1, (2, 10, 0)),
    "max_bytes": (-1, (2, 10, 0)),
    "max_msgs_per_subject": (-1, (2, 10, 0)),
    "max_msg_size": (-1, (2, 10, 0)),
    "discard": ("old", (2, 10, 0)),
    "storage": ("file", (2, 10, 0)),
    "num_replicas": (1, (2, 10, 0)),
    "compression": ("none", (2, 10, 0)),
    "persist_mode": ("default", (2, 12, 0)),  # omitted from INFO
}

CONSUMER_DEFAULTS: dict[str, tuple[Any, Version]] = {
    "deliver_policy": ("all", (2, 10, 0)),
    "ack_policy": ("none", (2, 10, 0)),
    "max_deliver": (-1, (2, 10, 0)),
    "replay_policy": ("instant", (2, 10, 0)),
    "priority_policy": ("none", (2, 11, 0)),  # omitted from INFO
}
ACK_WAIT_POLICIES = frozenset({"explicit", "all"})  # the ack policies given a default ack_wait


def _fill(config: dict[str, Any], table: dict[str, tuple[Any, Version]], server: Version) -> None:
    for name, (value, since) in table.items():
        if server >= since and not config.get(name):  # the server reads 0 as "unset" here too
            config[name] = value


def local_origin(origin: dict[str, Any] | None) -> str | None:
    """The stream of this account a mirror or source reads; None for none, or for an ``external`` one (another
    domain's or account's: the server looks up nothing, so a local stream of the same name gives a mirror no
    mirror_direct; measured 2.10-2.15, tests/matrix/test_domains.py)."""
    return None if not origin or origin.get("external") else origin.get("name")


def stream_defaults(config: dict[str, Any], server: Version, origin: dict[str, Any] | None = None) -> dict[str, Any]:
    """``config`` with what the server would add (a new dict; the input is not changed).

    ``origin`` is the config of the stream a mirror reads: its ``allow_direct`` turns on ``mirror_direct``.
    """
    out = dict(config)
    _fill(out, STREAM_DEFAULTS, server)
    if out.get("mirror") and (origin or {}).get("allow_direct"):
        out["mirror_direct"] = True
    has_origin = bool(out.get("mirror") or out.get("sources"))
    if not out.get("subjects") and not has_origin:
        out["subjects"] = [out.get("name")]
    if not out.get("mirror") and not out.get("duplicate_window"):
        max_age = out.get("max_age") or 0
        out["duplicate_window"] = min(max_age, DEFAULT_DUPLICATE_WINDOW) if max_age else DEFAULT_DUPLICATE_WINDOW
    if out.get("republish") and not out["republish"].get("src"):
        out["republish"] = {**out["republish"], "src": ">"}
    # Subject delete markers and message schedules work through rollups: the server turns them on.
    if out.get("subject_delete_marker_ttl") or out.get("allow_msg_schedules"):
        out["allow_rollup_hdrs"] = True
    if out.get("sealed"):
        out.update(max_age=0, discard="new", deny_delete=True, deny_purge=True, allow_rollup_hdrs=False)
    return out


def consumer_defaults(config: dict[str, Any], stream: dict[str, Any] | None, server: Version) -> dict[str, Any]:
    """``config`` with what the server would add; ``stream`` is the owning stream's config (its limits)."""
    out = dict(config)
    if not out.get("name"):
        out["name"] = out.get("durable_name")
    if not out.get("durable_name"):
        out["durable_name"] = out.get("name")
    _fill(out, CONSUMER_DEFAULTS, server)
    out.update(inherited_limits(out, stream))
    if not out.get("ack_wait") and (out.get("backoff") or out["ack_policy"] in ACK_WAIT_POLICIES):
        out["ack_wait"] = (out.get("backoff") or [DEFAULT_ACK_WAIT])[0]
    if not out.get("max_ack_pending") and out["ack_policy"] != "none":
        out["max_ack_pending"] = DEFAULT_MAX_ACK_PENDING
    if not out.get("deliver_subject") and not out.get("max_waiting"):
        out["max_waiting"] = DEFAULT_MAX_WAITING
    if out.get("priority_policy") == "pinned_client" and not out.get("priority_timeout"):
        out["priority_timeout"] = DEFAULT_PINNED_TTL
    return out
