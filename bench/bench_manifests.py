"""Manifest load + validate speed (`load_desired`, `jsctl validate`), beside a bare PyYAML C-loader parse.

    .venv/bin/python bench/bench_manifests.py [--scenario NAME]... [--streams 1000] [--consumers 4]
                                              [--subjects 32000] [--shared 10000] [--filtered 10000] [--runs 5]

Scenarios (all by default):
  resources  N streams x M consumers, as a real project writes them (budget: ~0.2 s for load+validate,
             inside the 1 s target of a whole `jsctl plan` at 1,000 x 4)
  subjects   one stream with --subjects subjects (the subject overlap checks, within a stream)
  shared     --shared streams whose subjects all share their first token (overlaps across streams)
  filters    one stream with --subjects subjects and --filtered consumers on it, each with filters (one
             or two) and every other one push (deliver_subject): filters and deliver subjects against
             the stream's subjects
  bomb       a ~400-byte YAML alias bomb: refused before anything is built

For each, in one run: jsctl's `load_desired` in this process beside a baseline parsing the same files
with PyYAML's C loader alone (no positions, no validation), then the whole process, `jsctl validate`
beside a Python process doing that parse. Best of --runs; the ratio is jsctl / baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

PARSE_ONLY = "import sys, yaml\nfor name in sys.argv[1:]:\n    yaml.load(open(name), Loader=yaml.CSafeLoader)\n"
BOMB = "".join(f"x-{level}: &{level} [{', '.join([f'*{level - 1}'] * 9) if level else 'lol'}]\n" for level in range(9))


def write_resources(directory: Path, streams: int, consumers_per_stream: int) -> list[Path]:
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
    return [write(directory / "streams.yaml", {"streams": stream_items}),
            write(directory / "consumers.yaml", {"consumers": consumer_items})]


def write_filtered(directory: Path, subjects: int, consumers: int) -> list[Path]:
    stream = {"name": "BIG", "subjects": [f"big.{index:05d}.*" for index in range(subjects)]}
    consumer_items = []
    for index in range(consumers):
        first, second = (index * 7) % subjects, (index * 7 + 1) % subjects
        consumer = {"stream": "BIG", "durable_name": f"C{index:05d}", "ack_policy": "explicit"}
        if index % 2:
            consumer["filter_subjects"] = [f"big.{first:05d}.a", f"big.{second:05d}.*"]
        else:
            consumer.update(filter_subject=f"big.{first:05d}.a", deliver_subject=f"out.{index:05d}")
        consumer_items.append(consumer)
    return [write(directory / "streams.yaml", {"streams": [stream]}),
            write(directory / "consumers.yaml", {"consumers": consumer_items})]


def write(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """Best wall time and best CPU time of ``runs`` calls (CPU time is steadier on a busy machine)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def best_process(runs: int, command: list[str]) -> float:
    """Best wall time of ``runs`` runs of ``command``, a whole process."""
    return best_of(runs, lambda: subprocess.run(command, capture_output=True, check=False, timeout=600))[0]


def scenario_files(name: str, directory: Path, args: argparse.Namespace) -> tuple[str, list[Path]]:
    if name == "resources":
        return (f"{args.streams} streams x {args.consumers} consumers",
                write_resources(directory, args.streams, args.consumers))
    if name == "subjects":
        subjects = [f"big.{index:05d}.*" for index in range(args.subjects)]
        return (f"1 stream with {args.subjects} subjects",
                [write(directory / "streams.yaml", {"streams": [{"name": "BIG", "subjects": subjects}]})])
    if name == "filters":
        return (f"1 stream with {args.subjects} subjects, {args.filtered} consumers with filters",
                write_filtered(directory, args.subjects, args.filtered))
    if name == "shared":
        streams = [{"name": f"S{index:05d}", "subjects": [f"shared.s{index}.>"]} for index in range(args.shared)]
        return (f"{args.shared} streams sharing a first token",
                [write(directory / "streams.yaml", {"streams": streams})])
    path = directory / "bomb.yaml"
    path.write_text(BOMB + "streams: [{name: A, metadata: {k: *8}}]\n")
    return f"a {path.stat().st_size}-byte alias bomb", [path]


def load_or_refuse(paths: list[Path]) -> None:
    from reconciler.manifest import ManifestError, load_desired

    with contextlib.suppress(ManifestError):  # the bomb: being refused is the outcome measured
        load_desired(paths)


def run(name: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        title, paths = scenario_files(name, Path(tmp), args)
        names = [str(path) for path in paths]
        base_wall, base_cpu = best_of(args.runs, lambda: [yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
                                                          for path in paths])
        ours_wall, ours_cpu = best_of(args.runs, lambda: load_or_refuse(paths))
        base_process = best_process(args.runs, [sys.executable, "-c", PARSE_ONLY, *names])
        files = [option for path in names for option in ("-f", path)]
        ours_process = best_process(args.runs, [sys.executable, "-m", "reconciler", "validate", *files])
    print(f"\n{title}, best of {args.runs}")
    print(f"{'':44}{'wall s':>8}{'cpu s':>8}")
    print(f"{'baseline: PyYAML CSafeLoader load':44}{base_wall:8.3f}{base_cpu:8.3f}")
    print(f"{'jsctl load_desired (load+validate)':44}{ours_wall:8.3f}{ours_cpu:8.3f}")
    print(f"{'baseline process: python parsing the files':44}{base_process:8.3f}")
    print(f"{'jsctl validate process':44}{ours_process:8.3f}")
    print(f"ratio jsctl / baseline: wall {ours_wall / base_wall:.2f}, cpu {ours_cpu / max(base_cpu, 1e-6):.2f}, "
          f"process {ours_process / base_process:.2f}")


SCENARIOS = ("resources", "subjects", "shared", "filters", "bomb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[5:14]))
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="repeatable; default: all")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=4, help="consumers per stream")
    parser.add_argument("--subjects", type=int, default=32_000, help="subjects of the one stream")
    parser.add_argument("--shared", type=int, default=10_000, help="streams sharing a first token")
    parser.add_argument("--filtered", type=int, default=10_000, help="consumers with filters on the one stream")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for name in args.scenario or SCENARIOS:
        run(name, args)


if __name__ == "__main__":
    main()
