"""JetStream plan/apply speed, whole processes, baselines measured side by side in the same run.

    .venv/bin/python bench/bench_plan.py [--streams 1000] [--consumers 4] [--growth 5000] [--runs 3]

Starts its own nats-server (loopback, temp dir), writes manifests for N streams x M consumers, and
prints one table: jsctl apply vs creating one request at a time; jsctl plan (nothing to change) vs a
floor process (parse + paged LIST) and vs one sequential INFO request per resource; jsctl plan on the
repo's own manifests; plan time at --growth streams vs at --streams.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reconciler.localservers import NatsServer  # noqa: E402

BASELINES = str(REPO / "bench" / "js_baselines.py")


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


def timed(argv: list[str], env: dict[str, str], expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def best(argv: list[str], env: dict[str, str], runs: int, expect: int = 0) -> float:
    return statistics.median(timed(argv, env, expect) for _ in range(runs))


def jsctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *args]


async def delete_all(url: str) -> None:
    from reconciler.connection import NatsSettings, connect_nats
    from reconciler.jetstream.observe import bounded
    from reconciler.jsapi import JetStreamApi

    nc = await connect_nats(NatsSettings(url=url))
    api = JetStreamApi(nc)
    names = await api.paged("STREAM.NAMES", "streams")
    await bounded(api.request(f"STREAM.DELETE.{n}") for n in names)
    await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--growth", type=int, default=5000, help="stream count for the growth check (0: skip)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, float, str, float, str]] = []

    with tempfile.TemporaryDirectory(prefix="jsctl-bench-") as tmp:
        work = Path(tmp)
        server = NatsServer(work / "nats", config="max_payload: 8MB").start()
        env = {**os.environ, "NATS_URL": server.url}
        try:
            n, m = args.streams, args.consumers
            manifests = write_manifests(work / "m", n, m)
            raw = numeric_manifests(manifests, work / "raw")
            label = f"{n} streams x {m} consumers"

            sequential = timed([sys.executable, BASELINES, "create", str(raw)], env)
            asyncio.run(delete_all(server.url))
            apply_time = timed(jsctl("apply", "--yes", "-f", str(manifests)), env)
            rows.append((f"apply {label} (new)", apply_time, "one request at a time", sequential,
                         "target >= 3x faster"))

            plan_time = best(jsctl("plan", "-f", str(manifests), "--detailed-exitcode"), env, args.runs)
            floor = best([sys.executable, BASELINES, "floor", str(raw)], env, args.runs)
            info = best([sys.executable, BASELINES, "info", str(raw)], env, args.runs)
            rows.append((f"plan {label}, no changes", plan_time, "floor: parse + paged LIST", floor,
                         "target <= 1.0 s and <= 2x floor"))
            rows.append((f"plan {label}, no changes", plan_time, "one INFO per resource", info, "must beat clearly"))

            if args.growth:
                asyncio.run(delete_all(server.url))
                big = write_manifests(work / "big", args.growth, m)
                timed(jsctl("apply", "--yes", "-f", str(big)), env)
                big_time = best(jsctl("plan", "-f", str(big), "--detailed-exitcode"), env, args.runs)
                rows.append((f"plan {args.growth} streams x {m}", big_time, f"plan {n} streams x {m}", plan_time,
                             f"target <= 5.5x ({args.growth // n}x the resources)"))

            asyncio.run(delete_all(server.url))
            seed = ["-f", str(REPO / "streams.yaml"), "-f", str(REPO / "consumers.yaml")]
            timed(jsctl("apply", "--yes", *seed), env)
            own = best(jsctl("plan", *seed, "--detailed-exitcode"), env, args.runs)
            rows.append(("plan on the repo's own manifests", own, "target", 0.4, "target <= 0.4 s"))
        finally:
            server.stop()

    print(f"{'measurement':<42} {'jsctl s':>8}  {'baseline':<28} {'base s':>7} {'ratio':>7}  note")
    for what, ours, base_name, base, note in rows:
        ratio = base / ours if base_name != "target" and base > ours and "plan " not in base_name else ours / base
        print(f"{what:<42} {ours:8.3f}  {base_name:<28} {base:7.3f} {ratio:7.2f}x  {note}")


if __name__ == "__main__":
    main()
