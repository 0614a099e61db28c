"""What saving a plan costs: `jsctl plan --out` vs `jsctl plan`, the file's size, and `jsctl apply plan.json`
(its basis checked) vs `jsctl plan`, on a fresh nats-server of its own.

    .venv/bin/python bench/bench_saved_plan.py [--streams 1000] [--consumers 4] [--runs 3]

Two accounts: "new" (nothing exists: the plan creates N streams x M consumers) and "in sync" (all
of them exist, as the manifests say: the plan is empty, the usual pull request in a live account;
its basis then covers every declared resource). Each command's least wall and CPU time of --runs,
the commands taken in turns.
To compare two versions of jsctl, run this script from a directory outside both checkouts (`-m`
puts the working directory first on the path) with PYTHONPATH set to each checkout in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_plan import bench_server, children_cpu, delete_all, jsctl, store_dir_option, timed, write_manifests  # noqa: E402


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the jsctl process): on a shared machine CPU seconds move far less."""
    before = children_cpu()
    wall = timed(argv, env)
    return wall, children_cpu() - before


def fastest(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    """Each command's least wall and least CPU time over ``runs``, the commands taken in turns."""
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            seen[name].append(run(argv, env))
    return {name: (min(w for w, _ in times), min(c for _, c in times)) for name, times in seen.items()}


def measure(work: Path, env: dict[str, str], manifests: Path, runs: int, label: str) -> list[str]:
    plan_file = work / "plan.json"
    files = ["-f", str(manifests)]
    commands = {"plan": jsctl("plan", *files), "plan --out": jsctl("plan", *files, "--out", str(plan_file))}
    if label == "in sync":  # applying an empty saved plan: the basis check alone
        commands["apply plan.json"] = jsctl("apply", str(plan_file), *files)
    times = fastest(commands, env, runs)
    wall, cpu = times["plan"]
    rows = [f"{label}: plan.json {plan_file.stat().st_size / 1e6:.2f} MB"]
    rows += [f"{label}: {name} {w:.3f} s (x{w / wall:.2f} of plan), CPU {c:.3f} s (x{c / cpu:.2f})"
             for name, (w, c) in times.items()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    store_dir_option(parser)
    args = parser.parse_args()
    with bench_server(args.store_dir) as (work, server, env):
        manifests = write_manifests(work / "m", args.streams, args.consumers)
        env = {**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        asyncio.run(delete_all(server.url))
        rows = measure(work, env, manifests, args.runs, "new")
        timed(jsctl("apply", "--yes", "-f", str(manifests)), env)
        rows += measure(work, env, manifests, args.runs, "in sync")
    print(f"{args.streams} streams x {args.consumers} consumers")
    print("\n".join(rows))
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
