"""One apply at a time per NATS account and JetStream domain: a lock kept in JetStream itself.

The lock is one key (``apply``) in jsctl's own KV bucket (stream ``KV_jsctl_locks``, never planned,
never shown as unmanaged: ``is_jsctl_internal``), written with raw publishes so every write is conditional:
``Nats-Expected-Last-Subject-Sequence`` makes taking, refreshing and releasing the lock
compare-and-set operations on the key's last sequence (0 = the key was never written). With a
JetStream domain (``--js-domain``), every request and write goes through that domain's API prefix, so
the lock is the domain's own bucket (settings.kv_put_subject).

A holder refreshes the record every third of its TTL. A lock whose last write is older than its
TTL, judged by the server's clock (message time vs. the ``ts`` of STREAM.INFO, so machines with
skewed clocks agree), is free: a crashed apply never blocks forever. On servers with per-message
TTL (2.11+) the record also carries ``Nats-TTL`` so the server removes it by itself.

A holder that ran on this very machine and whose process is gone is taken over at once, without
waiting for its TTL: "this machine" is the same host name, kernel boot and pid namespace (``pid_scope``),
the only case where its pid can be checked. Holders elsewhere are only ever judged by their TTL.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import getpass
import json
import math
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JsctlError, Refused, UserError
from .client import (
    ERR_NO_MESSAGE,
    ERR_WRONG_LAST_SEQUENCE,
    KV_DELETE_OPERATIONS,
    ApiError,
    JetStreamApi,
    PermissionDenied,
    stored_headers,
    unanswered,
)
from .settings import DEFAULT_API_PREFIX, kv_put_subject

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

LOCK_BUCKET = "jsctl_locks"
LOCK_STREAM = f"KV_{LOCK_BUCKET}"  # a KV bucket is stored in a stream named KV_<bucket>
INTERNAL_STREAMS = frozenset({LOCK_STREAM})  # JetStream resources jsctl keeps for itself
LOCK_KEY = "apply"
LOCK_SUBJECT = f"$KV.{LOCK_BUCKET}.{LOCK_KEY}"
DEFAULT_TTL_S = 30.0
DEFAULT_TIMEOUT_S = 60.0
MAX_POLL_S = 1.0
LEADER_WAIT_S = 10.0

ERR_NO_SUITABLE_PEERS = 10005
# A leaf node's server reports a cluster name of its own (its server name) without being clustered: R3 is refused
ERR_REPLICAS_NOT_SUPPORTED = 10074
ERR_STREAM_NOT_FOUND = 10059

# The bucket as `nats kv add jsctl_locks --history 1` would create it (KV conventions, so natscli's
# `nats kv get jsctl_locks apply` shows the holder).
BUCKET_CONFIG: dict[str, Any] = {
    "name": LOCK_STREAM,
    "subjects": [f"$KV.{LOCK_BUCKET}.>"],
    "max_msgs_per_subject": 1,
    "discard": "new",
    "allow_rollup_hdrs": True,
    "deny_delete": True,
    "allow_direct": True,
    "storage": "file",
}
CLUSTER_REPLICAS = 3  # in a cluster, so the lock survives a node; R1 when fewer nodes have JetStream


def is_jsctl_internal(stream_name: str) -> bool:
    """True for streams jsctl creates for its own use (the apply lock bucket): the planner skips them."""
    return stream_name in INTERNAL_STREAMS


@dataclass
class LockRecord:
    """Who holds the lock: the JSON stored under the key. Never holds a secret (no argv, no URLs)."""

    id: str
    user: str
    host: str
    pid: int
    cwd: str
    operation: str
    acquired_at: str  # ISO 8601 UTC, the holder's clock (for people; expiry uses the server's clock)
    ttl_s: float
    pid_scope: str | None = None  # where ``pid`` names one process (see _pid_scope); None: unknown
    seq: int = field(default=0, compare=False)  # the key's sequence when read
    written_at: datetime | None = field(default=None, compare=False)  # server time of the last write

    @classmethod
    def new(cls, operation: str, ttl_s: float) -> LockRecord:
        return cls(id=uuid.uuid4().hex[:16], user=_user(), host=socket.gethostname(), pid=os.getpid(),
                   cwd=os.getcwd(), operation=operation, acquired_at=_utc_now_iso(), ttl_s=ttl_s,
                   pid_scope=_pid_scope())

    def payload(self) -> bytes:
        data = {k: v for k, v in asdict(self).items() if k not in ("seq", "written_at")}
        return json.dumps(data, sort_keys=True).encode()

    def expires_at(self) -> datetime | None:
        return self.written_at + timedelta(seconds=self.ttl_s) if self.written_at else None

    def expired(self, server_now: datetime) -> bool:
        expires = self.expires_at()
        return expires is not None and server_now >= expires

    def gone_from(self, here: LockRecord) -> bool:
        """True when this holder ran where ``here`` runs (same host, boot and pid namespace) and its
        process no longer exists there. Records of older jsctl versions have no scope: never gone."""
        return (self.pid_scope is not None and (self.host, self.pid_scope) == (here.host, here.pid_scope)
                and not _running(self.pid))

    def describe(self) -> str:
        expires = self.expires_at()
        until = f", expires {_iso(expires)} unless refreshed" if expires else ""
        return (f"{self.operation} by {self.user}@{self.host} (pid {self.pid}, in {self.cwd}) "
                f"since {self.acquired_at}, lock id {self.id}{until}")


@dataclass
class LockState:
    """The key as read: the record (None when free) and the sequence a conditional write must name."""

    record: LockRecord | None
    last_seq: int
    server_now: datetime


class LockLost(JsctlError):
    """Our lock was force-unlocked or expired while we held it."""


TAKEN_OVER = "the apply lock was force-unlocked or taken over while this apply held it"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


def _pid_scope() -> str | None:
    """This kernel boot and pid namespace (Linux): two processes with the same scope see the same pids.
    A host name alone is not enough: containers with the host's name (``--network host``) or
    machines left with a default name share it, each with pids of its own. None where unknown."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def _running(pid: object) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    if not isinstance(pid, int) or pid <= 0:
        return True  # not a pid we can check: assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # PermissionError: it exists, as another user's process
    return True


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now_iso() -> str:
    return _iso(_utc_now())


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_server_time(text: str) -> datetime:
    """nats-server's RFC 3339 times (nanoseconds, ``Z``) as aware datetimes."""
    text = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00")
    return datetime.fromisoformat(text)


class LockStore:
    """Reads and conditionally writes the lock key through raw JetStream requests."""

    def __init__(self, nc: NatsClient, *, prefix: str = DEFAULT_API_PREFIX):
        self.nc = nc
        self.api = JetStreamApi(nc, prefix=prefix)
        self.put_subject = kv_put_subject(prefix, LOCK_BUCKET, LOCK_KEY)
        self.ttl_supported = False

    async def ensure_bucket(self) -> None:
        """Create the bucket when missing; use an existing one as is (another jsctl may have made it)."""
        deadline = time.monotonic() + LEADER_WAIT_S
        while True:
            try:
                info = await self.api.request(f"STREAM.INFO.{LOCK_STREAM}")
            except ApiError as exc:
                if exc.err_code != ERR_STREAM_NOT_FOUND:
                    raise
                info = await self._create()
            except PermissionDenied:
                raise
            except JsctlError:
                # Unanswered: in a cluster, while another jsctl's create of the R3 bucket is being
                # assigned, its INFO requests go unanswered for a moment (seen on a fresh cluster).
                if time.monotonic() >= deadline:
                    raise
                continue
            break
        info = await self._with_leader(info)
        # 2.10 silently drops allow_msg_ttl: trust the stored config, not what we asked for.
        self.ttl_supported = bool(info.get("config", {}).get("allow_msg_ttl"))

    async def _with_leader(self, info: dict[str, Any]) -> dict[str, Any]:
        """In a cluster, a stream just created answers reads only once its leader is elected
        (requests before that go unanswered): wait for it, bounded."""
        deadline = time.monotonic() + LEADER_WAIT_S
        while "cluster" in info and not info["cluster"].get("leader") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            with contextlib.suppress(JsctlError):  # unanswered (not an ApiError) until there is a leader
                info = await self.api.request(f"STREAM.INFO.{LOCK_STREAM}", timeout=1)
        return info

    async def _create(self) -> dict[str, Any]:
        level = int(((await self.api.request("INFO")).get("api") or {}).get("level", 0))
        config = {**BUCKET_CONFIG, **({"allow_msg_ttl": True} if level >= 1 else {})}
        clustered = bool(self.nc._server_info.get("cluster"))  # nats-py has no public accessor for INFO
        replicas = CLUSTER_REPLICAS if clustered else 1
        try:
            return await self.api.request(f"STREAM.CREATE.{LOCK_STREAM}", {**config, "num_replicas": replicas})
        except ApiError as exc:
            if exc.err_code in (ERR_NO_SUITABLE_PEERS, ERR_REPLICAS_NOT_SUPPORTED) and replicas > 1:
                return await self.api.request(f"STREAM.CREATE.{LOCK_STREAM}", {**config, "num_replicas": 1})
            # created concurrently by another jsctl (maybe with other settings): use what is there
            with contextlib.suppress(ApiError):
                return await self.api.request(f"STREAM.INFO.{LOCK_STREAM}")
            raise

    async def read(self) -> LockState:
        info = await self.api.request(f"STREAM.INFO.{LOCK_STREAM}")
        server_now = parse_server_time(info["ts"]) if info.get("ts") else _utc_now()
        try:
            reply = await self.api.request(f"STREAM.MSG.GET.{LOCK_STREAM}", {"last_by_subj": LOCK_SUBJECT})
        except ApiError as exc:
            if exc.err_code == ERR_NO_MESSAGE:
                return LockState(None, 0, server_now)
            raise
        message = reply["message"]
        seq = int(message["seq"])
        if stored_headers(message.get("hdrs")).get("KV-Operation") in KV_DELETE_OPERATIONS or not message.get("data"):
            return LockState(None, seq, server_now)
        try:
            data = json.loads(base64.b64decode(message["data"]))
            record = LockRecord(**{k: data[k] for k in LockRecord.__dataclass_fields__
                                   if k in data and k not in ("seq", "written_at")})
        except (ValueError, KeyError, TypeError):
            raise UserError(f"the lock record in KV bucket {LOCK_BUCKET} key {LOCK_KEY} is not jsctl's: "
                            f"remove it with `nats kv del {LOCK_BUCKET} {LOCK_KEY}`") from None
        record.seq, record.written_at = seq, parse_server_time(message["time"])
        return LockState(record, seq, server_now)

    async def write(self, payload: bytes, expected_seq: int, *, ttl_s: float | None = None,
                    delete: bool = False) -> int | None:
        """Publish iff the key's last sequence is ``expected_seq``; the new sequence, or None if it moved."""
        headers = {"Nats-Expected-Last-Subject-Sequence": str(expected_seq)}
        if delete:
            headers["KV-Operation"] = "DEL"
        elif ttl_s and self.ttl_supported:
            headers["Nats-TTL"] = f"{max(1, math.ceil(ttl_s))}s"
        msg = await self._publish(payload, headers)
        reply = json.loads(msg.data)
        error = reply.get("error")
        if error:
            if error.get("err_code") in ERR_WRONG_LAST_SEQUENCE:
                return None
            raise ApiError(self.put_subject, error.get("code", 0), error.get("err_code", 0),
                           error.get("description", "?"))
        return int(reply["seq"])


    async def _publish(self, payload: bytes, headers: dict[str, str]):
        """Publish to the lock key. In a cluster, a bucket just created (or changing leader) may have no
        responder for a moment: nothing was stored then, so publish again, for a bounded time."""
        from nats.errors import NoRespondersError
        from nats.errors import TimeoutError as NatsTimeout

        deadline = time.monotonic() + LEADER_WAIT_S
        while True:
            try:
                return await self.nc.request(self.put_subject, payload, timeout=self.api.timeout, headers=headers)
            except NatsTimeout:
                raise unanswered(self.nc, self.put_subject, self.api.timeout) from None
            except NoRespondersError:
                if time.monotonic() >= deadline:
                    raise JsctlError(f"the lock bucket's stream {LOCK_STREAM} did not answer within "
                                     f"{LEADER_WAIT_S:g}s (no stream leader?)") from None
                await asyncio.sleep(0.1)


class ApplyLock:
    """``async with ApplyLock(nc, timeout_s=60):`` holds the account's apply lock for the block.

    Waits up to ``timeout_s`` for a holder to release (or its lock to expire), then raises
    ``Refused`` naming the holder; a holder whose process is gone from this machine is taken over
    at once. ``tell`` hears both (waiting, taking over). While held, a background task refreshes the
    record; ``ensure_held()`` raises ``LockLost`` if someone force-unlocked it meanwhile.
    """

    def __init__(self, nc: NatsClient, *, operation: str = "apply", timeout_s: float = DEFAULT_TIMEOUT_S,
                 ttl_s: float = DEFAULT_TTL_S, tell: Callable[[str], None] | None = None,
                 prefix: str = DEFAULT_API_PREFIX):
        if ttl_s <= 0:
            raise UserError("the lock TTL must be positive")
        self.store = LockStore(nc, prefix=prefix)
        self.record = LockRecord.new(operation, ttl_s)
        self.timeout_s, self.tell = max(0.0, timeout_s), tell or (lambda message: None)
        self.seq: int | None = None
        self.lost: str | None = None
        self._refresher: asyncio.Task | None = None

    @property
    def id(self) -> str:
        return self.record.id

    async def acquire(self) -> None:
        await self.store.ensure_bucket()
        deadline = time.monotonic() + self.timeout_s
        told: str | None = None
        poll = 0.05
        while True:
            state = await self.store.read()
            holder = state.record
            expired = holder is None or holder.expired(state.server_now)
            gone = not expired and holder.gone_from(self.record)
            free = expired or gone
            if free and await self._take(state.last_seq):
                if gone:
                    self.tell(f"took over the apply lock held by {holder.describe()}: "
                              f"process {holder.pid} is no longer running on this host")
                return
            # Held, or free but another contender wrote first (then the next read shows who).
            blocker = None if free else holder
            if time.monotonic() >= deadline:
                raise Refused(self._refusal(blocker))
            if blocker and told != blocker.id:
                told = blocker.id
                self.tell(f"waiting up to {self.timeout_s:g}s for the apply lock held by {blocker.describe()}")
            await asyncio.sleep(min(poll, max(0.0, deadline - time.monotonic())))
            poll = min(poll * 2, MAX_POLL_S)

    def _refusal(self, blocker: LockRecord | None) -> str:
        waited = f" after waiting {self.timeout_s:g}s" if self.timeout_s else ""
        if blocker is None:
            return f"the apply lock kept changing hands{waited}; retry later or raise --lock-timeout"
        return (f"another {blocker.describe()} holds the apply lock{waited}; retry later, raise --lock-timeout, "
                f"or if that process is gone run `jsctl force-unlock {blocker.id}`")

    async def _take(self, last_seq: int) -> bool:
        seq = await self.store.write(self.record.payload(), last_seq, ttl_s=self.record.ttl_s)
        if seq is None:
            return False
        self.seq = seq
        self._refresher = asyncio.create_task(self._refresh_loop())
        return True

    async def _refresh_loop(self) -> None:
        interval = self.record.ttl_s / 3
        last_ok = time.monotonic()
        while self.seq is not None:
            await asyncio.sleep(interval)
            try:
                seq = await self.store.write(self.record.payload(), self.seq, ttl_s=self.record.ttl_s)
            except Exception:  # a network blip: try again next tick, give up once the TTL has run out
                if time.monotonic() - last_ok > self.record.ttl_s:
                    self.lost = "the apply lock could not be refreshed before it expired"
                    return
                continue
            if seq is None:
                self.lost = TAKEN_OVER
                self.seq = None
                return
            self.seq, last_ok = seq, time.monotonic()

    async def ensure_held(self) -> None:
        """Raise LockLost unless the lock is still ours (asks the server: call right before changing anything)."""
        if not self.lost:
            state = await self.store.read()
            if state.record is None or state.record.id != self.id:
                self.lost = TAKEN_OVER
        if self.lost:
            raise LockLost(self.lost)

    async def release(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        if self.seq is not None:
            seq, self.seq = self.seq, None
            # A no-op if someone took it meanwhile. A failure here must not hide the apply's own
            # outcome (nor does the cancel that ends --timeout's grace): the lock then expires by itself.
            try:
                await self.store.write(b"", seq, delete=True)
            except (Exception, asyncio.CancelledError) as exc:
                self.tell(f"could not release the apply lock {self.id} ({str(exc) or 'no answer in time'}): "
                          f"it expires {self.record.ttl_s:g}s after its last refresh, and the next apply on "
                          "this host takes it over at once")

    async def __aenter__(self) -> ApplyLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


async def _read_existing(store: LockStore) -> LockState | None:
    """The key as read, or None when the bucket does not exist (no apply ever took the lock)."""
    try:
        return await store.read()
    except ApiError as exc:
        if exc.err_code == ERR_STREAM_NOT_FOUND:
            return None
        raise


async def current_lock(nc: NatsClient, *, prefix: str = DEFAULT_API_PREFIX) -> LockRecord | None:
    """The live holder, or None (a missing bucket or an expired record count as free)."""
    state = await _read_existing(LockStore(nc, prefix=prefix))
    if state is None or state.record is None or state.record.expired(state.server_now):
        return None
    return state.record


async def force_unlock(nc: NatsClient, lock_id: str, *, prefix: str = DEFAULT_API_PREFIX) -> LockRecord:
    """Remove the lock with ``lock_id`` whoever holds it; return the record removed."""
    store = LockStore(nc, prefix=prefix)
    state = await _read_existing(store)
    if state is None or state.record is None:
        raise UserError(f"no apply lock is held (lock id {lock_id} not found)")
    record = state.record
    if record.id != lock_id:
        raise UserError(f"lock id {lock_id} does not match the current lock: {record.describe()}")
    if await store.write(b"", state.last_seq, delete=True) is None:
        raise UserError(f"the lock changed while unlocking; run `jsctl force-unlock {lock_id}` again to check")
    return record
