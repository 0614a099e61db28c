"""Worker and publisher throughput, side by side in one run, each on a fresh stream and database.

    .venv/bin/python bench/bench_worker.py [--count 50000] [--naive-count 2000] [--repeat 3]
    .venv/bin/python bench/bench_worker.py --against DIR [--repeat 5] [-- WORKER FLAGS...]

(a) raw ceiling: nats-py fetch(batch) + ack, no other work
(a') the same with the worker's own pull (reconciler.worker.wire.Puller), for reference
(b) `jsctl worker --until-idle` as a process, end to end (start-up and idle detection included),
    with the default --pipeline 2 and with --pipeline 1
(c) naive worker: fetch 1, one transaction per message, synchronous verdict publish, ack
    (run on --naive-count messages; its rate is extrapolated)
(d) raw nats-py acked publish loop (publish_async, same in-flight window) vs `jsctl publish --count N`
Targets: (b) >= 0.5 x (a), (b) >= 10 x (c), worker peak RSS < 150 MB, (d) jsctl >= 0.8 x raw.
With --against DIR (another checkout, e.g. `git archive main | tar -x -C DIR`): only (b), this
checkout's worker and DIR's alternating --repeat rounds (each on a fresh stream and a database at
its own head), with the worker flags given after `--`; prints the ratio of their rates.
(a) and (b) alternate --repeat times on the same consumer configuration, so both see the same load;
best and median of each are compared, with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from nats.aio.msg import Msg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the worker tests' harness creates USER_TXN as they do

from reconciler.db import upgrade_to_head  # noqa: E402
from reconciler.db.settings import DatabaseSettings  # noqa: E402
from reconciler.dev.servers import NatsServer, PostgresServer  # noqa: E402
from reconciler.jetstream.client import ApiError, JetStreamApi  # noqa: E402
from reconciler.jetstream.connect import connect_nats  # noqa: E402
from reconciler.jetstream.settings import NatsSettings  # noqa: E402
from reconciler.worker.events import parse_event  # noqa: E402
from reconciler.worker.loop import verdict_bytes  # noqa: E402
from reconciler.worker.publish import random_events  # noqa: E402
from reconciler.worker.verdict import Limits, decide  # noqa: E402
from reconciler.worker.wire import Puller  # noqa: E402
from tests.worker.harness import create_user_txn  # noqa: E402

BATCH = 100
IN_FLIGHT = 1000
STREAM, CONSUMER = "USER_TXN", "GRP_MAKER"


async def fresh_stream(url: str) -> None:
    """USER_TXN and its consumers, empty: every measurement starts from the same stream state."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        with contextlib.suppress(ApiError):  # absent the first time
            await JetStreamApi(nc).request(f"STREAM.DELETE.{STREAM}")
    finally:
        await nc.close()
    create_user_txn(url, ack_wait="30s")


async def raw_publish(url: str, count: int) -> float:
    """Acked publishes with IN_FLIGHT outstanding; returns the rate."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        js = nc.jetstream(publish_async_max_pending=IN_FLIGHT)
        started = time.perf_counter()
        futures = [await js.publish_async("USER_TXN.maker", payload, headers={"Nats-Msg-Id": msg_id})
                   for msg_id, payload in random_events(count)]
        await asyncio.gather(*futures)
        return count / (time.perf_counter() - started)
    finally:
        await nc.close()


async def fetch_ack_rate(count: int, fetch: Callable, ack: Callable) -> float:
    """Fetch BATCH at a time and ack each message until ``count``; the rate. (a) and (a') differ only in
    ``fetch`` and ``ack``: one timing loop keeps them comparable."""
    started, done = time.perf_counter(), 0
    while done < count:
        for msg in await fetch(BATCH, timeout=5):
            await ack(msg)
            done += 1
    return count / (time.perf_counter() - started)


async def raw_fetch_ack(url: str, count: int) -> float:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        sub = await nc.jetstream().pull_subscribe_bind(CONSUMER, STREAM)
        return await fetch_ack_rate(count, sub.fetch, Msg.ack)
    finally:
        await nc.close()


async def lean_fetch_ack(url: str, count: int) -> float:
    """The worker's own pull (one request per batch, one inbox) + plain +ACK publishes, no other work."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        pull = Puller(nc, STREAM, CONSUMER)
        await pull.start()
        return await fetch_ack_rate(count, pull.fetch, lambda msg: nc.publish(msg.reply, b"+ACK"))
    finally:
        await nc.close()


def jsctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *args]


class Run(NamedTuple):
    elapsed: float  # wall seconds
    rss: int  # peak, bytes
    cpu: float  # user + system seconds of the process itself (less sensitive to the machine's load)


def timed_process(command: list[str], repo: Path = REPO) -> Run:
    """Wall time, peak RSS and CPU time of a child process (jsctl of ``repo``), which must succeed."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=repo)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[2:4])} failed:\n{stderr}")
    return Run(elapsed, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime)


async def naive_worker(url: str, database_url: str, count: int) -> float:
    """The straightforward worker: one message, one transaction, one synchronous publish, one ack."""
    import asyncpg

    nc = await connect_nats(NatsSettings(url=url))
    conn = await asyncpg.connect(database_url)
    limits = Limits()
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe_bind(CONSUMER, STREAM)
        started = time.perf_counter()
        for _ in range(count):
            (msg,) = await sub.fetch(1, timeout=5)
            meta = msg.metadata
            event = parse_event(msg.data, stream=meta.stream, stream_sequence=meta.sequence.stream,
                                stream_time=meta.timestamp, msg_id=msg.headers.get("Nats-Msg-Id"))
            day = event.stream_time.date()
            async with conn.transaction():
                if await conn.fetchval("SELECT 1 FROM transactions WHERE transaction_id = $1", event.transaction_id):
                    await msg.ack()
                    continue
                await conn.execute("INSERT INTO daily_totals (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                   event.user_id, day)
                total = await conn.fetchval("SELECT approved_total FROM daily_totals WHERE user_id = $1 AND day = $2 "
                                            "FOR UPDATE", event.user_id, day)
                verdict = decide(event.amount, limits, total)
                await conn.execute(
                    "INSERT INTO transactions (transaction_id, user_id, transaction_mode, amount, status, reason, "
                    "stream_sequence, stream_time, day, payload_digest) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                    event.transaction_id, event.user_id, event.mode, event.amount, verdict.status, verdict.reason,
                    event.stream_sequence, event.stream_time, day, event.digest)
                if verdict.reason is None:
                    await conn.execute("UPDATE daily_totals SET approved_total = approved_total + $3 "
                                       "WHERE user_id = $1 AND day = $2", event.user_id, day, event.amount)
            await js.publish("USER_TXN.validator", verdict_bytes(
                event.transaction_id, event.user_id, event.mode, event.amount, verdict.status, verdict.reason,
                event.stream_sequence), headers={"Nats-Msg-Id": f"verdict-{event.transaction_id}"})
            await msg.ack()
        return count / (time.perf_counter() - started)
    finally:
        await conn.close()
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--naive-count", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, default=None, metavar="DIR",
                        help="compare this checkout's worker with the one in DIR (alternating rounds)")
    parser.add_argument("worker_flags", nargs="*", help="after --: flags for both workers (with --against)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        nats = NatsServer(Path(tmp) / "nats").start()
        pg = PostgresServer(Path(tmp) / "pg" / "data", password=uuid.uuid4().hex).start()
        try:
            if args.against:
                compare(nats.url, pg, args.count, args.repeat, args.against.resolve(), args.worker_flags)
            else:
                run(nats.url, pg, args.count, args.naive_count, args.repeat)
        finally:
            nats.stop()
            pg.stop("immediate")


def fresh_database(pg: PostgresServer, repo: Path = REPO) -> str:
    url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
    upgrade_to_head(DatabaseSettings(url), repo / "migrations")
    return url


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def worker_rate(url: str, pg: PostgresServer, count: int, pipeline: int, repo: Path = REPO,
                flags: tuple[str, ...] = ()) -> tuple[float, Run]:
    """(b) once on a fresh stream and database: msg/s, and the process's figures."""
    asyncio.run(fresh_stream(url))
    asyncio.run(raw_publish(url, count))
    database_url = fresh_database(pg, repo)
    done = timed_process(jsctl("worker", "--server", url, "--database-url", database_url,
                               "--until-idle", "--pipeline", str(pipeline), *flags), repo)
    return count / done.elapsed, done


def compare(url: str, pg: PostgresServer, count: int, repeat: int, other: Path, flags: list[str]) -> None:
    """This checkout's worker against ``other``'s, alternating (which goes first alternates too)."""
    print(f"{count} events, worker flags {flags or 'none'}: {REPO} against {other}; load average {load_average()}")
    rates: dict[Path, list[float]] = {REPO: [], other: []}
    cpu: dict[Path, list[float]] = {REPO: [], other: []}
    for round_ in range(repeat):
        for repo in (REPO, other) if round_ % 2 == 0 else (other, REPO):
            rate, done = worker_rate(url, pg, count, 2, repo, tuple(flags))
            rates[repo].append(rate)
            cpu[repo].append(done.cpu)
        print(f"    round {round_ + 1}: this {rates[REPO][-1]:.0f}, other {rates[other][-1]:.0f} msg/s "
              f"({rates[REPO][-1] / rates[other][-1]:.2f}); CPU this {cpu[REPO][-1]:.2f} s, other "
              f"{cpu[other][-1]:.2f} s; load average {load_average()}")
    print(f"this  {summary(rates[REPO])}, CPU median {statistics.median(cpu[REPO]):.2f} s\n"
          f"other {summary(rates[other])}, CPU median {statistics.median(cpu[other]):.2f} s")
    print(f"this / other: {max(rates[REPO]) / max(rates[other]):.2f} best/best, "
          f"{statistics.median(rates[REPO]) / statistics.median(rates[other]):.2f} median/median; CPU "
          f"{statistics.median(cpu[REPO]) / statistics.median(cpu[other]):.2f} median/median")


def raw_rate(url: str, count: int) -> float:
    """(a) once on a fresh stream."""
    asyncio.run(fresh_stream(url))
    asyncio.run(raw_publish(url, count))
    return asyncio.run(raw_fetch_ack(url, count))


def summary(rates: list[float]) -> str:
    return f"best {max(rates):7.0f}  median {statistics.median(rates):7.0f} msg/s"


def run(url: str, pg: PostgresServer, count: int, naive_count: int, repeat: int) -> None:
    print(f"{count} events, batch {BATCH}, publish window {IN_FLIGHT}, load average {load_average()}")
    asyncio.run(fresh_stream(url))
    raw_pub = asyncio.run(raw_publish(url, count))
    print(f"(d) raw nats-py acked publish      {raw_pub:9.0f} msg/s")
    asyncio.run(fresh_stream(url))
    elapsed = timed_process(jsctl("publish", "--server", url, "--count", str(count),
                                  "--in-flight", str(IN_FLIGHT))).elapsed
    jsctl_pub = count / elapsed
    print(f"    jsctl publish (process)        {jsctl_pub:9.0f} msg/s   {jsctl_pub / raw_pub:.2f} x raw (target 0.8)")

    asyncio.run(fresh_stream(url))
    asyncio.run(raw_publish(url, count))
    lean = asyncio.run(lean_fetch_ack(url, count))
    print(f"(a') the worker's pull + ack alone   {lean:9.0f} msg/s   (the worker's NATS ceiling)")

    pipelines = (2, 1)  # the default, two half batches in flight (staged); one full batch at a time
    raws: list[float] = []
    workers: dict[int, list[float]] = {p: [] for p in pipelines}
    peak_rss = dict.fromkeys(pipelines, 0)
    for _ in range(repeat):
        raws.append(raw_rate(url, count))
        for pipeline in pipelines:
            rate, done = worker_rate(url, pg, count, pipeline)
            workers[pipeline].append(rate)
            peak_rss[pipeline] = max(peak_rss[pipeline], done.rss)
        print(f"    round {len(raws)}: (a) {raws[-1]:.0f}, "
              + ", ".join(f"(b) -p{p} {workers[p][-1]:.0f}" for p in pipelines) + f"; load average {load_average()}")
    print(f"(a) raw fetch+ack                  {summary(raws)}")
    for pipeline in pipelines:
        rates = workers[pipeline]
        print(f"(b) jsctl worker --until-idle -p{pipeline}  {summary(rates)}   "
              f"{max(rates) / max(raws):.2f} x (a) best/best, "
              f"{statistics.median(rates) / statistics.median(raws):.2f} median/median (target 0.5)   "
              f"peak RSS {peak_rss[pipeline] / 2**20:.0f} MB (target < 150)")
    worker = statistics.median(workers[pipelines[0]])

    asyncio.run(fresh_stream(url))
    asyncio.run(raw_publish(url, naive_count))
    naive = asyncio.run(naive_worker(url, fresh_database(pg), naive_count))
    print(f"(c) naive worker ({naive_count} msgs)        {naive:9.0f} msg/s   "
          f"median (b) -p{pipelines[0]} = {worker / naive:.1f} x (c) (target 10); load average {load_average()}")


if __name__ == "__main__":
    main()
