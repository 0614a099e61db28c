"""Buckets through the stream machinery: a KV bucket or an object store is planned, applied, verified,
owned and pruned as its backing stream (``KV_<bucket>``, ``OBJ_<bucket>``: buckets.py maps one to the
other). What says "bucket" is only its address (``kv/NAME``, ``objectstore/NAME``), here, and what a
replace or delete of it destroys (its keys or objects, not its messages).

So there is one update-vs-replace table (replace_rules.py, on the backing stream's fields), one
ownership (marks in the backing stream's metadata), one --prune, one saved-plan basis, for both.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from ..manifest.model import STREAM, DeclaredResource, Desired
from ..plan import address as addresses
from ..plan.address import Address
from .buckets import KV, OBJ, backing_stream_name, bucket_of, left_open, stream_config
from .capabilities import Version

if TYPE_CHECKING:
    from ..plan.model import Plan
    from .client import JetStreamApi

BUCKET_ADDRESS = {KV: addresses.KV, OBJ: addresses.OBJECTSTORE}
BUCKET_KIND = {address_kind: kind for kind, address_kind in BUCKET_ADDRESS.items()}


def stream_address(name: str, config: dict[str, Any] | None) -> Address:
    """The address a live stream is shown at: its bucket's when it backs one, else ``stream/NAME``."""
    found = bucket_of(config) if config else None
    return BUCKET_ADDRESS[found[0]].address(found[1]) if found else addresses.STREAM.address(name)


def stream_name(address: Address) -> str:
    """The stream an address of a stream kind is applied to: ``stream/S`` -> S, ``kv/B`` -> KV_B."""
    (name,) = address.names[:1]
    kind = BUCKET_KIND.get(address.kind)
    return backing_stream_name(kind, name) if kind else name


def declared_buckets(desired: Desired) -> list[tuple[str, DeclaredResource]]:
    """(bucket kind, item) of every declared KV bucket and object store."""
    return [(KV, item) for item in desired.key_value.values()] + \
        [(OBJ, item) for item in desired.object_stores.values()]


def backing_names(desired: Desired) -> set[str]:
    """The backing streams of the declared buckets (to observe only those)."""
    return {backing_stream_name(kind, item.name) for kind, item in declared_buckets(desired)}


def as_streams(desired: Desired, version: Version, live_streams: dict[str, dict[str, Any]]) -> Desired:
    """``desired`` with each declared bucket also as a declared stream: its backing stream as jsctl creates
    it on the connected server, shown at the bucket's address (the buckets stay, for the planner's
    version checks of their own fields)."""
    streams = dict(desired.streams)
    for kind, item in declared_buckets(desired):
        name = backing_stream_name(kind, item.name)
        live = (live_streams.get(name) or {}).get("config")
        config = as_made(stream_config(kind, item.config, version), item.config, live)
        streams[name] = DeclaredResource(STREAM, name, config, item.origin, shown_as=item.address)
    return dataclasses.replace(desired, streams=streams)


def as_made(config: dict[str, Any], spec: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """The backing stream ``config`` with what clients legitimately make differently (buckets.left_open)
    as the live bucket has it: nats-py leaves ``allow_direct`` off and turns ``allow_msg_ttl`` on, which
    2.11+ never let turn off: changing either would be an update for nothing, or a replace."""
    if live is None:
        return config
    kept = {k: v for k, v in config.items() if k not in left_open(spec)}
    return kept | {field: live[field] for field in left_open(spec) if field in live}


def destroyed(item: dict[str, Any], address: Address) -> dict[str, Any] | None:
    """What deleting the backing stream of the bucket at ``address`` loses, in the bucket's terms (None:
    not a bucket's). A KV bucket's keys are its subjects: a deleted key whose marker remains counts too."""
    kind = BUCKET_KIND.get(address.kind)
    if kind is None:
        return None
    state = item.get("state") or {}
    if kind == KV:
        return {"keys": state.get("num_subjects", 0), "bytes": state.get("bytes", 0)}
    return {"bytes": state.get("bytes", 0)}  # objects: counted by count_objects (a read)


OBJECTS_READ_AT_MOST = 10_000  # past this many names, a replace shows the names, tombstones included


async def count_objects(api: JetStreamApi, plan: Plan) -> None:
    """Add the objects an object store's replace or delete destroys to its ``destroys``: a read, so
    the planner stays pure (the bytes are its state's, counted there)."""
    for change in plan.changes:
        if change.address.kind is addresses.OBJECTSTORE and change.details.destroys is not None:
            change.details.destroys = {"objects": await _live_objects(api, change.address),
                                       **change.details.destroys}


async def _live_objects(api: JetStreamApi, address: Address) -> int:
    """The objects of a store: the names whose last meta message is not a delete's tombstone
    (chunk subjects miss empty objects: docs/research/buckets.md, section 4)."""
    from .observe import bounded

    stream, (bucket,) = stream_name(address), address.names
    info = await api.request(f"STREAM.INFO.{stream}", {"subjects_filter": f"$O.{bucket}.M.>"})
    names = sorted((info.get("state") or {}).get("subjects") or {})
    if len(names) > OBJECTS_READ_AT_MOST:
        return len(names)
    metas = await bounded(api.request(f"STREAM.MSG.GET.{stream}", {"last_by_subj": name}) for name in names)
    return sum(not _is_tombstone(reply) for reply in metas)


def _is_tombstone(reply: dict[str, Any]) -> bool:
    try:
        return bool(json.loads(base64.b64decode((reply.get("message") or {}).get("data") or "")).get("deleted"))
    except (ValueError, AttributeError):
        return False  # not an object's meta: counted, as what a replace would lose too
