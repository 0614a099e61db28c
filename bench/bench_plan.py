"""JetStream plan/apply speed, whole processes, baselines measured side by side in the same run.

    .venv/bin/python bench/bench_plan.py [--streams 1000] [--consumers 4] [--growth 5000] [--runs 3]

Starts its own nats-server (loopback, temp dir), writes manifests for N streams x M consumers, and
prints one table: jsctl apply vs creating one request at a time, and vs a burst of every create
request at once with nothing checked (the least time any client can take); jsctl plan (nothing to
change) vs a floor process (parse + paged LIST) and vs one sequential INFO request per resource;
jsctl plan on the repo's own manifests; plan time at --growth streams vs at --streams.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reconciler.dev.servers import NatsServer  # noqa: E402

BASELINES = str(REPO / "bench" / "js_baselines.py")


def store_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store-dir", default="/dev/shm" if Path("/dev/shm").is_dir() else None,
                        help="parent of the server's JetStream store [default: /dev/shm (tmpfs) when present, so "
                             "the figures measure jsctl and nats-server, not a disk shared with other work]")


@contextlib.contextmanager
def bench_server(store_dir: str | None) -> Iterator[tuple[Path, NatsServer, dict[str, str]]]:
    """A scratch directory, a nats-server of the bench's own (its store under ``store_dir``) and an
    environment whose NATS_URL points at it."""
    with tempfile.TemporaryDirectory(prefix="jsctl-bench-") as tmp, \
            tempfile.TemporaryDirectory(prefix="jsctl-bench-store-", dir=store_dir) as store:
        server = NatsServer(Path(store), config="max_payload: 8MB").start()
        try:
            yield Path(tmp), server, {**os.environ, "NATS_URL": server.url}
        finally:
            server.stop()


def write_manifests(directory: Path, streams: int, consumers: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stream_items = [{"name": f"S{i:05d}", "subjects": [f"s{i:05d}.>"], "max_age": "30d", "duplicate_window": "2m",
                     "max_msgs_per_subject": 100} for i in range(streams)]
    consumer_items = [{"stream": f"S{i:05d}", "durable_name": f"C{j}", "filter_subject": f"s{i:05d}.{j}",
                       "ack_policy": "explicit", "max_ack_pending": 100, "ack_wait": "1m"}
                      for i in range(streams) for j in range(consumers)]
    (directory / "streams.yaml").write_text(yaml.safe_dump({"streams": stream_items}, sort_keys=False))
    (directory / "consumers.yaml").write_text(yaml.safe_dump({"consumers": consumer_items}, sort_keys=False))
    return directory


def numeric_manifests(source: Path, target: Path) -> Path:
    """The same manifests with durations as integer nanoseconds, for the baselines that send them raw."""
    units = {"30d": 30 * 86400 * 10**9, "2m": 120 * 10**9, "1m": 60 * 10**9}
    target.mkdir(parents=True, exist_ok=True)
    for name in ("streams.yaml", "consumers.yaml"):
        data = yaml.load((source / name).read_text(), Loader=yaml.CSafeLoader)
        for item in next(iter(data.values())):
            for key, value in item.items():
                if isinstance(value, str) and value in units:
                    item[key] = units[value]
        (target / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: the jsctl runs and their own children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def process_cpu(stat: Path) -> float:
    """CPU seconds (user + system) a running process used so far, from its /proc/PID/stat (0 off Linux)."""
    if not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()  # utime and stime, in clock ticks
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used by finished child processes (the client side) and by the nats-server process."""

    def __init__(self, server_pid: int):
        self.stat = Path(f"/proc/{server_pid}/stat")

    def read(self) -> tuple[float, float]:
        return children_cpu(), process_cpu(self.stat)

    def during(self, action) -> tuple[float, float, float]:
        """(wall, client CPU, server CPU) of ``action()``, which returns its wall time."""
        client, server = self.read()
        wall = action()
        client_after, server_after = self.read()
        return wall, client_after - client, server_after - server


def timed(argv: list[str], env: dict[str, str], expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def best(argv: list[str], env: dict[str, str], runs: int, expect: int = 0) -> float:
    """The fastest of ``runs``: on a shared machine the least disturbed run is the truest figure."""
    return min(timed(argv, env, expect) for _ in range(runs))


def best_alternating(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    """The fastest run of each command, their runs taken in turns so that a busy moment of a shared
    machine slows each of them, not only the one that happened to run then."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(timed(argv, env))
    return {name: min(values) for name, values in times.items()}


def jsctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *args]


async def delete_all(url: str) -> None:
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.observe import bounded
    from reconciler.jetstream.settings import NatsSettings

    nc = await connect_nats(NatsSettings(url=url))
    api = JetStreamApi(nc)
    names = await api.paged("STREAM.NAMES", "streams")
    await bounded(api.request(f"STREAM.DELETE.{n}") for n in names)
    await nc.close()


async def in_process(url: str, manifests: Path) -> dict[str, float]:
    """Where the time goes inside one process: loading, observing, planning, and the apply requests
    sent as apply sends them vs one at a time (the same executor, on an emptied account each time)."""
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.execute import WRITE_CONCURRENCY, execute
    from reconciler.jetstream.observe import observe
    from reconciler.jetstream.plan import plan_jetstream
    from reconciler.jetstream.settings import NatsSettings
    from reconciler.manifest import load_desired

    times: dict[str, float] = {}
    start = time.perf_counter()
    desired = load_desired([manifests])
    times["load"] = time.perf_counter() - start
    nc = await connect_nats(NatsSettings(url=url))
    api = JetStreamApi(nc)
    try:
        for concurrency in (1, WRITE_CONCURRENCY):
            await delete_all(url)
            pending = plan_jetstream(desired, await observe(api)).pending
            start = time.perf_counter()
            await execute(api, pending, concurrency=concurrency)
            times["execute x1" if concurrency == 1 else "execute"] = time.perf_counter() - start
        start = time.perf_counter()
        live = await observe(api)
        times["observe"] = time.perf_counter() - start
        start = time.perf_counter()
        plan_jetstream(desired, live)
        times["diff"] = time.perf_counter() - start
    finally:
        await nc.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--growth", type=int, default=5000, help="stream count for the growth check (0: skip)")
    parser.add_argument("--runs", type=int, default=3)
    store_dir_option(parser)
    args = parser.parse_args()
    rows: list[tuple[str, float, str, float, str]] = []  # what, jsctl s, baseline, baseline s, target

    with bench_server(args.store_dir) as (work, server, env):
        n, m = args.streams, args.consumers
        manifests = write_manifests(work / "m", n, m)
        raw = numeric_manifests(manifests, work / "raw")
        label = f"{n} streams x {m} consumers"

        meter = CpuMeter(server.proc.pid)
        sequential, *sequential_cpu = meter.during(
            lambda: timed([sys.executable, BASELINES, "create", str(raw)], env))
        asyncio.run(delete_all(server.url))
        apply_time, *apply_cpu = meter.during(lambda: timed(jsctl("apply", "--yes", "-f", str(manifests)), env))
        rows.append((f"apply {label} (new)", apply_time, "one request at a time", sequential,
                     "none (3x: out of reach on 2 cores, issue #11)"))
        asyncio.run(delete_all(server.url))
        burst, *burst_cpu = meter.during(lambda: timed([sys.executable, BASELINES, "burst", str(raw)], env))
        rows.append((f"apply {label} (new)", apply_time, "burst: all at once, unchecked", burst,
                     "jsctl/base <= 1.15 (in pairs: bench_apply.py)"))

        parts = asyncio.run(in_process(server.url, manifests))
        rows.append((f"apply requests only, in-process ({label})", parts["execute"],
                     "same executor, 1 in flight", parts["execute x1"], "baseline/jsctl (no target)"))
        plan_time, floor, info = best_alternating({
            "plan": jsctl("plan", "-f", str(manifests), "--detailed-exitcode"),
            "floor": [sys.executable, BASELINES, "floor", str(raw)],
            "info": [sys.executable, BASELINES, "info", str(raw)],
        }, env, args.runs).values()
        rows.append((f"plan {label}, no changes", plan_time, "floor: parse + paged LIST", floor,
                     "jsctl <= 1.0 s; jsctl/floor <= 2"))
        rows.append((f"plan {label}, no changes", plan_time, "one INFO per resource", info, "jsctl/baseline < 1"))

        if args.growth:
            asyncio.run(delete_all(server.url))
            big = write_manifests(work / "big", args.growth, m)
            timed(jsctl("apply", "--yes", "-f", str(big)), env)
            big_time = best(jsctl("plan", "-f", str(big), "--detailed-exitcode"), env, args.runs)
            rows.append((f"plan {args.growth} streams x {m}", big_time, f"plan {n} streams x {m}", plan_time,
                         f"jsctl/baseline <= 5.5 ({args.growth // n}x the resources)"))

        asyncio.run(delete_all(server.url))
        seed = ["-f", str(REPO / "streams.yaml"), "-f", str(REPO / "consumers.yaml")]
        timed(jsctl("apply", "--yes", *seed), env)
        own = best(jsctl("plan", *seed, "--detailed-exitcode"), env, args.runs)
        rows.append(("plan on the repo's own manifests", own, "target", 0.4, "jsctl <= 0.4 s"))

    print(f"{'measurement':<46} {'jsctl s':>8}  {'baseline':<28} {'base s':>7} {'jsctl/base':>10} "
          f"{'base/jsctl':>10}  target")
    for what, ours, base_name, base, target in rows:
        print(f"{what:<46} {ours:8.3f}  {base_name:<28} {base:7.3f} {ours / base:10.2f} {base / ours:10.2f}  {target}")
    print("in-process, 1 run: " + ", ".join(f"{k} {v:.3f} s" for k, v in parts.items()))
    print("apply CPU, client + server: jsctl {:.2f} + {:.2f} s, one request at a time {:.2f} + {:.2f} s, "
          "burst {:.2f} + {:.2f} s".format(*apply_cpu, *sequential_cpu, *burst_cpu))
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(other work on the machine slows both sides)")


if __name__ == "__main__":
    main()
