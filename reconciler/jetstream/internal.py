"""JetStream resources jsctl keeps for itself: never planned, never shown as unmanaged.

The planner asks ``is_jsctl_internal(stream_name)`` for every live stream it reads.
"""

from __future__ import annotations

LOCK_BUCKET = "jsctl_locks"
LOCK_STREAM = f"KV_{LOCK_BUCKET}"  # a KV bucket is stored in a stream named KV_<bucket>

INTERNAL_STREAMS = frozenset({LOCK_STREAM})


def is_jsctl_internal(stream_name: str) -> bool:
    """True for streams jsctl creates for its own use (the apply lock bucket)."""
    return stream_name in INTERNAL_STREAMS
