"""jsctl apply vs the burst floor, whole processes, taken in turns on one fresh nats-server.

    .venv/bin/python bench/bench_apply.py [--streams 1000] [--consumers 4] [--runs 5]

(a) new: `jsctl apply --yes` of N streams x M consumers into an empty account, vs `js_baselines.py
    burst` (every stream create at once, then every consumer create, up to 256 in flight, nothing
    checked);
(b) adopt: the same resources created beforehand without jsctl's ownership mark (by `burst`), then
    `jsctl apply --yes` (its plan: N x (M + 1) adopts, metadata only), vs `js_baselines.py update`
    sending the same configs with the mark (added after parsing, as jsctl does), all at once in the
    same way.

Each pair runs --runs times, the two sides in turns (which goes first alternates), each from the
same starting state. Printed: every pair, then per measurement the median of the per-pair ratios
(the target: <= 1.15), which is the figure judged; beside it the ratio of each side's fastest run
(the least disturbed) and of the CPU seconds both spent, client process + nats-server (medians):
other work on a shared machine moves wall times far more than CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_plan import (  # noqa: E402
    BASELINES,
    CpuMeter,
    bench_server,
    delete_all,
    jsctl,
    numeric_manifests,
    store_dir_option,
    timed,
    write_manifests,
)

from reconciler.dev.servers import NatsServer, wait_for  # noqa: E402
from reconciler.jetstream.ownership import MANAGED_KEY, MANAGED_VALUE  # noqa: E402

TARGET = 1.15


class Account:
    """The server's one account, emptied between runs."""

    def __init__(self, server: NatsServer):
        self.server = server

    def empty(self) -> None:
        asyncio.run(delete_all(self.server.url))
        # nats-server removes a deleted stream's directory after answering; a create racing that
        # removal fails ("error creating store"), which the baselines do not retry
        streams = self.server.store_dir / "jetstream" / "$G" / "streams"
        wait_for(lambda: not streams.exists() or not any(streams.iterdir()), timeout=30,
                 what="the deleted streams' directories to go")


def pair(meter: CpuMeter, prepare: Callable[[], None], sides: dict[str, list[str]], env: dict[str, str],
         jsctl_first: bool) -> dict[str, tuple[float, float, float]]:
    """(wall, client CPU, server CPU) of each side, each run from the state ``prepare`` makes."""
    order = list(sides) if jsctl_first else list(reversed(sides))
    result = {}
    for name in order:
        prepare()
        result[name] = meter.during(lambda argv=sides[name]: timed(argv, env))
    return result


def report(title: str, baseline: str, pairs: list[dict[str, tuple[float, float, float]]]) -> None:
    ratios = [p["jsctl"][0] / p["baseline"][0] for p in pairs]
    print(f"\n{title}   (baseline: {baseline})")
    print(f"  {'run':>3} {'jsctl s':>8} {'base s':>8} {'ratio':>6}   CPU client+server: jsctl | baseline")
    for number, (p, ratio) in enumerate(zip(pairs, ratios, strict=True), 1):
        (ours, ours_client, ours_server), (base, base_client, base_server) = p["jsctl"], p["baseline"]
        print(f"  {number:>3} {ours:8.3f} {base:8.3f} {ratio:6.2f}   {ours_client:.2f}+{ours_server:.2f} | "
              f"{base_client:.2f}+{base_server:.2f}")

    def median(side: str, index: int) -> float:
        return statistics.median(p[side][index] for p in pairs)

    def fastest(side: str) -> float:
        return min(p[side][0] for p in pairs)

    met = "met" if statistics.median(ratios) <= TARGET else "NOT met"
    cpu = {side: median(side, 1) + median(side, 2) for side in ("jsctl", "baseline")}
    print(f"  median ratio {statistics.median(ratios):.2f}: target <= {TARGET} {met} "
          f"(median jsctl {median('jsctl', 0):.3f} s, baseline {median('baseline', 0):.3f} s)")
    print(f"  fastest runs: jsctl {fastest('jsctl'):.3f} s, baseline {fastest('baseline'):.3f} s, "
          f"ratio {fastest('jsctl') / fastest('baseline'):.2f}")
    print(f"  median CPU s, client + server: jsctl {median('jsctl', 1):.2f} + {median('jsctl', 2):.2f}, "
          f"baseline {median('baseline', 1):.2f} + {median('baseline', 2):.2f}, "
          f"ratio {cpu['jsctl'] / cpu['baseline']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("new", "adopt"), help="run one of the two measurements")
    store_dir_option(parser)
    args = parser.parse_args()

    with bench_server(args.store_dir) as (work, server, env):
        manifests = write_manifests(work / "m", args.streams, args.consumers)
        raw = numeric_manifests(manifests, work / "raw")
        account, meter = Account(server), CpuMeter(server.proc.pid)
        burst = [sys.executable, BASELINES, "burst", str(raw)]
        apply = jsctl("apply", "--yes", "-f", str(manifests))
        label = f"{args.streams} streams x {args.consumers} consumers"
        load = os.getloadavg()[0]
        if args.only in (None, "new"):
            pairs = [pair(meter, account.empty, {"jsctl": apply, "baseline": burst}, env, run % 2 == 0)
                     for run in range(args.runs)]
            report(f"(a) apply {label}, new", "js_baselines.py burst", pairs)

        def existing_unmarked() -> None:
            account.empty()
            timed(burst, env)

        if args.only in (None, "adopt"):
            update = [sys.executable, BASELINES, "update", str(raw), f"{MANAGED_KEY}={MANAGED_VALUE}"]
            pairs = [pair(meter, existing_unmarked, {"jsctl": apply, "baseline": update}, env, run % 2 == 0)
                     for run in range(args.runs)]
            report(f"(b) adopt {label} (metadata only)", "js_baselines.py update, same configs + mark", pairs)
    print(f"\nload average (1 min) before: {load:.1f}, after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          f"(other work on the machine slows both sides); {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
