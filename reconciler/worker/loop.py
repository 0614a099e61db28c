"""The worker loop: fetch a batch, record it in one database call, publish the verdicts, then ack.

Exactly once in effect comes from the order of the steps: an input is acked only after its verdict's
publish was acked, which happens only after the batch's transaction committed. A crash anywhere
leaves inputs unacked; their redelivery finds the transactions recorded (``duplicate``) and
re-publishes the same verdicts, which the stream's duplicate window drops (``Nats-Msg-Id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring_ascii as json_string
from typing import TYPE_CHECKING

from nats.errors import ConnectionClosedError

from ..db.settings import DatabaseSettings
from ..errors import UserError
from ..jetstream.client import ApiError, JetStreamApi
from ..jetstream.connect import connect_nats
from ..jetstream.settings import NatsSettings, api_prefix
from .events import BadEvent, Event, amount_text, message_id, parse_event
from .monitor import CHECKS, HEALTH_INTERVAL, RUNNING, STARTING, STOPPING, Monitor
from .report import Reporter, describe
from .store import CONFLICT, CONFLICTING_DUPLICATE, NEW, Recorded, Rejected, Store
from .verdict import APPROVED, Limits
from .wire import AckedPublisher, Delivery, Puller, delivery, publish_all

if TYPE_CHECKING:
    from nats.aio.msg import Msg

CONSUMER_NOT_FOUND = 10014
STREAM_NOT_FOUND = 10059
ACK, TERM = b"+ACK", b"+TERM"
UNLIMITED_BATCH = 100  # batch size when the consumer sets no max_ack_pending


@dataclass(frozen=True)
class WorkerSettings:
    nats: NatsSettings
    database: DatabaseSettings
    stream: str = "USER_TXN"
    consumer: str = "GRP_MAKER"
    verdict_subject: str = "USER_TXN.validator"
    batch: int | None = None  # default: the consumer's max_ack_pending shared by the batches in flight
    limits: Limits = field(default_factory=Limits)
    until_idle: bool = False
    progress_interval: float = 5.0
    log_format: str = "text"
    metrics_port: int | None = None
    fetch_timeout: float = 1.0
    publish_timeout: float = 5.0
    pipeline: int = 2  # batches in flight at once, staged: one in the database while others fetch or publish
    retry_delay: float = 1.0  # first redelivery delay after a transient fault; doubles up to max_retry_delay
    max_retry_delay: float = 10.0


def start_monitor(settings: WorkerSettings, phase: str = STARTING) -> Monitor:
    """The worker's monitor, serving /metrics and /healthz when ``settings.metrics_port`` is set."""
    monitor = Monitor(phase)
    if settings.metrics_port is not None:
        monitor.serve(settings.metrics_port)
    return monitor


def run(settings: WorkerSettings, monitor: Monitor | None = None) -> int:
    """Run the worker until SIGTERM/SIGINT (or, with ``until_idle``, until the consumer is drained); exit code.

    ``monitor``: one started before (``jsctl up`` serves its health during apply); else one is started here.
    """
    own = monitor is None
    monitor = monitor or start_monitor(settings)
    try:
        return asyncio.run(Worker(settings, monitor).run())
    finally:
        if own:
            monitor.close()


@dataclass(slots=True, eq=False)
class _Item:
    """One fetched message on its way through a batch."""

    msg: Msg
    delivered: Delivery
    event: Event | None = None
    bad: BadEvent | None = None
    recorded: Recorded | None = None
    leader: _Item | None = None  # an earlier message of the same batch with the same transaction id


class Worker:
    def __init__(self, settings: WorkerSettings, monitor: Monitor):
        self.settings = settings
        self.monitor, self.stats, self.health = monitor, monitor.stats, monitor.health
        self.report = Reporter(self.stats, log_format=settings.log_format)
        # Batches in flight take turns on one connection, in fetch order: while one batch is in the
        # database, the next is fetched and parsed and the previous one's verdicts are published. Its
        # user locks end at its commit, so the stages never wait on each other's locks.
        self.store = Store(settings.database, settings.limits)
        self.database_turn = asyncio.Lock()  # FIFO: batches are recorded in the order they were fetched
        self.stopping = asyncio.Event()
        self.batch = settings.batch
        self.retry_delay = settings.retry_delay
        self.closing = False
        self.committed = False  # a batch reached Postgres since the last health check

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop)
        s = self.settings
        self.health.phase = STARTING
        self.nc = await connect_nats(s.nats, name="jsctl-worker", disconnected_cb=self._on_disconnect,
                                     reconnected_cb=self._on_reconnect)
        watch = None
        try:
            self.api = JetStreamApi(self.nc, prefix=api_prefix(s.nats))
            info = await self._consumer_info()
            self._clamp_batch(info["config"])
            await self.store.open()
            self.pull = Puller(self.nc, s.stream, s.consumer, prefix=self.api.prefix)
            self.verdicts = AckedPublisher(self.nc)
            await self.pull.start()
            await self.verdicts.start()
            self.health.checked(dict.fromkeys(CHECKS))  # all just seen working: connected, consumer info, schema
            self.health.phase = RUNNING if not self.stopping.is_set() else STOPPING
            watch = asyncio.create_task(self._watch_health())
            self.report.log("info", "started", stream=s.stream, consumer=s.consumer, batch=self.batch,
                            pipeline=s.pipeline, pending=info.get("num_pending", 0))
            idle = await self._loop(idle=s.until_idle and self._idle(info))
            self.report.summary("idle, exiting" if idle else "stopped")
            return 0
        finally:
            self.health.phase = STOPPING
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
            await self.store.close()
            self.closing = True
            with contextlib.suppress(Exception):
                await self.nc.drain()

    async def _loop(self, idle: bool) -> bool:
        """Fetch while up to ``pipeline`` batches are being recorded; returns whether it stopped for idleness."""
        s = self.settings
        in_flight: set[asyncio.Task] = set()
        next_progress = time.monotonic() + s.progress_interval
        maybe_drained = False  # the last fetch came back short or reported no lag
        while not idle and not self.stopping.is_set():
            for task in [task for task in in_flight if task.done()]:
                in_flight.discard(task)
                task.result()
            if in_flight and (len(in_flight) >= s.pipeline or self.stats.lag == 0):
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            if s.until_idle and maybe_drained and not in_flight and not self.pull.buffer:
                idle = await self._drained()  # asked before fetching: an empty fetch waits its whole timeout
                if idle:
                    break
            msgs = await self._fetch()
            if msgs:
                self.stats.lag = delivery(msgs[-1]).pending
                in_flight.add(asyncio.create_task(self._record_and_publish(msgs)))
            maybe_drained = len(msgs) < self.batch or self.stats.lag == 0
            if time.monotonic() >= next_progress:
                self.report.progress()
                next_progress = time.monotonic() + s.progress_interval
        for task in in_flight:
            await task  # SIGTERM: finish the batches in flight
        return idle

    # ------------------------------------------------------------ start-up and idleness

    async def _consumer_info(self) -> dict:
        s = self.settings
        try:
            return await self.api.request(f"CONSUMER.INFO.{s.stream}.{s.consumer}")
        except ApiError as exc:
            if exc.err_code in (CONSUMER_NOT_FOUND, STREAM_NOT_FOUND):
                raise UserError(f"consumer {s.stream}/{s.consumer} not found: run `jsctl apply` first") from None
            raise

    def _clamp_batch(self, config: dict) -> None:
        """All batches in flight together must fit in max_ack_pending, or fetches stall for their whole expiry."""
        max_ack_pending, depth = config.get("max_ack_pending", -1), self.settings.pipeline
        limit = max(1, max_ack_pending // depth) if max_ack_pending > 0 else UNLIMITED_BATCH
        if self.batch is None:
            self.batch = limit
        elif self.batch > limit and max_ack_pending > 0:
            self.report.log("warning", f"--batch {self.batch} x --pipeline {depth} exceeds the consumer's "
                            f"max_ack_pending {max_ack_pending}: every fetch would wait for its whole expiry; "
                            f"using --batch {limit}")
            self.batch = limit

    @staticmethod
    def _idle(info: dict) -> bool:
        return info.get("num_pending", 0) == 0 and info.get("num_ack_pending", 0) == 0

    async def _drained(self) -> bool:
        """Ask the consumer (not an empty fetch) whether anything is left, for ``--until-idle``.

        Our acks reach the server before the question: both go through the connection's one queue.
        """
        for _ in range(20):
            info = await self._consumer_info()
            if self._idle(info):
                return True
            if info.get("num_pending", 0) or info.get("num_redelivered", 0):
                return False
            # Only acks in flight (ours being applied, or another worker's batch): ask again shortly.
            await asyncio.sleep(0.01)
        return False

    def _stop(self) -> None:
        self.health.phase = STOPPING
        self.stopping.set()

    # ---------------------------------------------------------------------------------- health

    async def _watch_health(self) -> None:
        """Check NATS, the consumer and Postgres every HEALTH_INTERVAL seconds, until cancelled at exit."""
        while True:
            await asyncio.sleep(HEALTH_INTERVAL)
            await self._check_health()

    async def _check_health(self) -> None:
        connected = self.nc.is_connected
        self.health.checked({"nats": None if connected else "not connected (reconnecting)",
                             "consumer": await self._consumer_problem() if connected else "not checked: NATS is down",
                             "postgres": await self._database_problem()})

    async def _consumer_problem(self) -> str | None:
        try:
            await asyncio.wait_for(self._consumer_info(), HEALTH_INTERVAL)
        except UserError as exc:
            return str(exc)
        except Exception as exc:
            return describe(exc)
        return None

    async def _database_problem(self) -> str | None:
        """A batch that reached Postgres since the last check is proof enough; when idle, ask it (and
        reconnect: no batch will do it while nothing arrives)."""
        if self.committed and self.store.conn is not None:
            self.committed = False
            return None
        async with self.database_turn:
            try:
                await self._connected()
                await asyncio.wait_for(self.store.conn.fetchval("SELECT 1"), HEALTH_INTERVAL)  # type: ignore[union-attr]
            except Exception as exc:
                await self.store.close()  # reopened by the next check or batch
                return describe(exc)
        return None

    # ------------------------------------------------------------------ one batch

    async def _fetch(self) -> list[Msg]:
        try:
            return await self.pull.fetch(self.batch, timeout=self.settings.fetch_timeout)
        except ConnectionClosedError:
            raise
        except Exception as exc:  # NATS reconnecting, server restarting: wait for it
            self._fault("fetch", "fetch failed, retrying", exc)
            await self._pause(self.settings.retry_delay)
            return []

    async def _record_and_publish(self, msgs: list[Msg]) -> None:
        started = time.monotonic()
        items = [self._parse(msg) for msg in msgs]
        leaders = self._mark_repeats(items)
        dead = [item for item in items if item.bad is not None]
        async with self.database_turn:
            try:
                await self._connected()
                results = await self.store.record([item.event for item in leaders])  # type: ignore[misc]
                self.committed = True
                for item, recorded in zip(leaders, results, strict=True):
                    item.recorded = recorded
                dead += [item for item in items if self._conflicting(item)]
                if dead:
                    await self.store.reject([self._rejected(item) for item in dead])
            except Exception as exc:
                await self.store.close()  # reopened before its next use
                self._fault("database", "database unavailable, batch handed back for redelivery", exc)
                await self._hand_back(msgs)
                return
        await self._reply([item.msg for item in dead], TERM)
        verdicts = [item for item in leaders if item.recorded.outcome != CONFLICT]  # type: ignore[union-attr]
        if not await self._publish_verdicts(verdicts):
            await self._hand_back([item.msg for item in items if item not in dead])
            return
        await self._reply([item.msg for item in items if item not in dead], ACK)
        self.retry_delay = self.settings.retry_delay
        self._count(items, dead)
        self.monitor.batch_done(time.monotonic() - started)

    async def _connected(self) -> None:
        """Reconnect after a database fault; raises while Postgres is still away."""
        if self.store.conn is None:
            await self.store.reopen()
            self.report.log("info", "database connection restored")

    def _parse(self, msg: Msg) -> _Item:
        delivered = delivery(msg)
        item = _Item(msg, delivered)
        try:
            item.event = parse_event(msg.data, stream=delivered.stream, stream_sequence=delivered.sequence,
                                     stream_time=delivered.time, msg_id=message_id(msg.headers))
        except BadEvent as exc:
            item.bad = exc
        return item

    @staticmethod
    def _mark_repeats(items: list[_Item]) -> list[_Item]:
        """The first message of each transaction id goes to the database; later ones in the batch follow it."""
        first: dict[str, _Item] = {}
        for item in items:
            if item.event is not None:
                leader = first.setdefault(item.event.transaction_id, item)
                if leader is not item:
                    item.leader = leader
        return list(first.values())

    @staticmethod
    def _conflicting(item: _Item) -> bool:
        if item.leader is not None:
            return item.leader.event.digest != item.event.digest or Worker._conflicting(item.leader)  # type: ignore[union-attr]
        return item.recorded is not None and item.recorded.outcome == CONFLICT

    def _rejected(self, item: _Item) -> Rejected:
        if item.bad is not None:
            reason, detail, transaction_id = item.bad.reason, item.bad.detail, None
        else:
            event = item.event
            assert event is not None
            reason, transaction_id = CONFLICTING_DUPLICATE, event.transaction_id
            detail = f"transaction {event.transaction_id!r} was already recorded with a different payload"
        stream, sequence = item.delivered.stream, item.delivered.sequence
        return Rejected(stream, sequence, item.msg.subject, item.msg.data, reason, detail, transaction_id,
                        message_id(item.msg.headers))

    async def _publish_verdicts(self, items: list[_Item]) -> bool:
        """Publish every verdict and wait for all their acks together; False if any is missing."""
        messages = [(verdict_json(item), {"Nats-Msg-Id": f"verdict-{item.event.transaction_id}"})  # type: ignore[union-attr]
                    for item in items]
        try:
            await self.verdicts.publish(self.settings.verdict_subject, messages, self.settings.publish_timeout)
        except Exception as exc:  # PublishFailed, or NATS gone while publishing
            self._fault("publish", "verdicts not confirmed, batch handed back for redelivery", exc)
            return False
        return True

    # ---------------------------------------------------------------- faults

    async def _hand_back(self, msgs: list[Msg]) -> None:
        """Transient fault: nothing was acked; ask for redelivery after a delay (ack_wait covers a lost NAK)."""
        await self._reply(msgs, b'-NAK {"delay": %d}' % int(self.retry_delay * 1e9))
        self.stats.add(retried=len(msgs))
        await self._pause(self.retry_delay)
        self.retry_delay = min(self.retry_delay * 2, self.settings.max_retry_delay)

    async def _reply(self, msgs: list[Msg], payload: bytes) -> None:
        """Ack, term or nak messages. If NATS is away they are lost, which is safe: JetStream redelivers."""
        try:
            await publish_all(self.nc, [(msg.reply, "", payload, None) for msg in msgs])
        except Exception as exc:
            self._fault("reply", "could not answer JetStream, messages will be redelivered", exc)

    def _fault(self, kind: str, message: str, exc: BaseException | None = None) -> None:
        """A transient fault: counted by kind (report.ERROR_KINDS) and logged as a warning."""
        self.stats.errors[kind] += 1
        self.report.log("warning", message, **({"error": describe(exc)} if exc is not None else {}))

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up at once on SIGTERM."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def _on_disconnect(self) -> None:
        if not self.closing:
            self._fault("connection", "NATS connection lost, reconnecting")

    async def _on_reconnect(self) -> None:
        self.report.log("info", "NATS connection restored")

    def _count(self, items: list[_Item], dead: list[_Item]) -> None:
        new = [i.recorded for i in items if i.recorded is not None and i.recorded.outcome == NEW]
        approved = sum(1 for r in new if r.status == APPROVED)
        self.stats.add(processed=len(new), approved=approved, rejected=len(new) - approved,
                       duplicates=len(items) - len(new) - len(dead), dead_lettered=len(dead))


def verdict_json(item: _Item) -> bytes:
    """The verdict message: what was recorded (the stored row for a duplicate, so re-publishing is identical)."""
    event, recorded = item.event, item.recorded
    assert event is not None and recorded is not None
    if recorded.outcome == NEW:
        user_id, mode, amount, sequence = event.user_id, event.mode, event.amount, event.stream_sequence
    else:
        user_id, mode, amount, sequence = recorded.user_id, recorded.mode, recorded.amount, recorded.stream_sequence
    return verdict_bytes(event.transaction_id, user_id, mode, amount, recorded.status, recorded.reason, sequence)


def verdict_bytes(transaction_id: str, user_id: str, mode: str, amount: Decimal, status: str, reason: str | None,
                  sequence: int) -> bytes:
    # json.dumps's own string encoder, without json.dumps's per-call set-up (three calls per verdict)
    return (f'{{"transactionId":{json_string(transaction_id)},"userId":{json_string(user_id)},'
            f'"transactionMode":"{mode}","amount":{amount_text(amount)},"status":"{status}",'
            f'"reason":{"null" if reason is None else json_string(reason)},"streamSequence":{sequence}}}').encode()
