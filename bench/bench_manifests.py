"""Manifest load + validate speed (`load_desired`), beside a bare PyYAML C-loader parse in the same run.

    .venv/bin/python bench/bench_manifests.py [--streams 1000] [--consumers 4] [--runs 5]

Prints jsctl's `load_desired` beside a baseline in the same run: parsing the same files with
PyYAML's C loader alone (no positions, no validation). The budget is ~0.2 s for load+validate,
inside the 1 s target of a whole `jsctl plan` at this size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml


def write_manifests(directory: Path, streams: int, consumers_per_stream: int) -> list[Path]:
    stream_items, consumer_items = [], []
    for index in range(streams):
        name = f"S{index:05d}"
        stream_items.append({
            "name": name, "subjects": [f"s{index}.*"], "retention": "limits", "storage": "file",
            "max_age": "30d", "max_bytes": "1GB", "max_msgs": -1, "duplicate_window": "2m", "num_replicas": 1,
            "discard": "old", "allow_rollup_hdrs": True, "metadata": {"team": "payments"},
        })
        for number in range(consumers_per_stream):
            consumer_items.append({
                "stream": name, "durable_name": f"C{number}", "filter_subject": f"s{index}.c{number}",
                "ack_policy": "explicit", "ack_wait": "1s", "max_deliver": 5, "backoff": ["1s", "5s", "30s"],
                "max_ack_pending": 100, "deliver_policy": "all", "replay_policy": "instant",
            })
    paths = [directory / "streams.yaml", directory / "consumers.yaml"]
    paths[0].write_text(yaml.safe_dump({"streams": stream_items}, sort_keys=False))
    paths[1].write_text(yaml.safe_dump({"consumers": consumer_items}, sort_keys=False))
    return paths


def best_of(runs: int, action) -> tuple[float, float]:
    """Best wall time and best CPU time of ``runs`` calls (CPU time is steadier on a busy machine)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=4, help="consumers per stream")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from reconciler.manifest import load_desired

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_manifests(Path(tmp), args.streams, args.consumers)
        start = time.perf_counter()
        desired = load_desired(paths)  # first run: includes compiling the schema validator
        first = time.perf_counter() - start
        assert len(desired.consumers) == args.streams * args.consumers

        def baseline() -> None:
            for path in paths:
                yaml.load(path.read_text(), Loader=yaml.CSafeLoader)

        base_wall, base_cpu = best_of(args.runs, baseline)
        ours_wall, ours_cpu = best_of(args.runs, lambda: load_desired(paths))
    print(f"{args.streams} streams x {args.consumers} consumers, best of {args.runs}")
    print(f"{'':36}{'wall s':>8}{'cpu s':>8}")
    print(f"{'baseline: PyYAML CSafeLoader load':36}{base_wall:8.3f}{base_cpu:8.3f}")
    print(f"{'jsctl load_desired (load+validate)':36}{ours_wall:8.3f}{ours_cpu:8.3f}")
    print(f"{'jsctl first call (compiles schema)':36}{first:8.3f}")
    print(f"ratio jsctl / baseline: wall {ours_wall / base_wall:.2f}, cpu {ours_cpu / base_cpu:.2f}")


if __name__ == "__main__":
    main()
