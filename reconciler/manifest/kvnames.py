"""Names in key-value buckets and object stores: bucket names and keys, as the reference clients check them.

Bucket names: ``^[a-zA-Z0-9_-]+$`` in every client (nats.go, nats-py, ADR-8/ADR-20). Keys: nats.go's
rules (jetstream/kv.go ``keyValid``), the strictest of the clients: nats-py lets ``a..b`` through, which
the server then stores under a subject no wildcard filter of the clients matches as one key.
"""

from __future__ import annotations

import re

from .subjects import MAX_NAME_BYTES

_BUCKET = re.compile(r"[a-zA-Z0-9_-]+")
_KEY = re.compile(r"[-/_=.a-zA-Z0-9]+")
KV_PREFIX, OBJ_PREFIX = "KV_", "OBJ_"
MAX_BUCKET_CHARS = MAX_NAME_BYTES - len(OBJ_PREFIX)  # the backing stream's name is a stream name
RESERVED_BUCKETS = frozenset({"jsctl_locks"})  # jsctl's own: the apply lock (jetstream/lock.py)
MAX_HISTORY = 64  # values kept per key: the clients' limit (the server takes more); the schema's maximum


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a bucket or object store, or None."""
    if not name:
        return "must not be empty"
    if not _BUCKET.fullmatch(name):
        return f"invalid bucket name {name!r}: only letters, digits, '_' and '-' (the clients' rule)"
    if len(name) > MAX_BUCKET_CHARS:
        return f"bucket name is longer than {MAX_BUCKET_CHARS} characters (its backing stream's name would be " \
               f"over the server's limit of {MAX_NAME_BYTES})"
    if name in RESERVED_BUCKETS:
        return f"bucket {name!r} is jsctl's own (its apply lock): choose another name"
    return None


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a key of a key-value bucket, or None."""
    if not key:
        return "a key must not be empty"
    if not _KEY.fullmatch(key):
        return f"invalid key {key!r}: only letters, digits and '-', '/', '_', '=', '.'"
    if key.startswith(".") or key.endswith("."):
        return f"invalid key {key!r}: must not start or end with '.'"
    if ".." in key:
        return f"invalid key {key!r}: must not contain '..' (an empty subject token)"
    return None
