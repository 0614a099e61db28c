"""What saving a plan costs: `jsctl plan --out` vs `jsctl plan`, the file's size, and `jsctl apply plan.json`
(its basis checked) vs `jsctl plan`, on a fresh nats-server of its own.

    .venv/bin/python bench/bench_saved_plan.py [--streams 1000] [--consumers 4] [--runs 3]

Two accounts: "new" (nothing exists: the plan creates N streams x M consumers) and "in sync" (all
of them exist, as the manifests say: the plan is empty, the usual pull request in a live account;
its basis then covers every declared resource). Each command's fastest of --runs, taken in turns.
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

from bench_plan import bench_server, best_alternating, delete_all, jsctl, store_dir_option, timed, write_manifests  # noqa: E402


def measure(work: Path, env: dict[str, str], manifests: Path, runs: int, label: str) -> list[str]:
    plan_file = work / "plan.json"
    files = ["-f", str(manifests)]
    times = best_alternating({"plan": jsctl("plan", *files),
                              "plan --out": jsctl("plan", *files, "--out", str(plan_file))}, env, runs)
    size = plan_file.stat().st_size
    rows = [f"{label}: plan {times['plan']:.3f} s, plan --out {times['plan --out']:.3f} s "
            f"(x{times['plan --out'] / times['plan']:.2f}), plan.json {size / 1e6:.2f} MB"]
    if label == "in sync":  # applying an empty saved plan: the basis check alone
        applied = min(timed(jsctl("apply", str(plan_file), *files), env) for _ in range(runs))
        rows.append(f"{label}: apply plan.json {applied:.3f} s (x{applied / times['plan']:.2f} of plan)")
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
