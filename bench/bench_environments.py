"""`jsctl plan --all-envs` over 3 environments vs the slowest single-environment plan, same run.

    .venv/bin/python bench/bench_environments.py [--streams 200] [--consumers 2] [--runs 5] [--same-variables]

Starts 3 nats-servers of its own (loopback, temp dirs), one per environment of a jsctl.yaml; writes one
set of manifests (N streams x M consumers) whose max_age and max_msgs come from each environment's
variables; applies them with `apply --all-envs`; then runs, in turns, `jsctl plan --env E` for each
environment and `jsctl plan --all-envs` (nothing to change). Printed per command, medians of the runs:
wall time, the client's CPU (jsctl and its children) and each server's CPU; then the ratio of --all-envs
to the slowest single plan (goal: at most 1.3) beside the floor this machine sets: the 3 single plans'
CPU (clients and servers) spread over every core, max(1, CPU / (cores x slowest single wall)). A ratio
near the floor is CPU-bound: only sharing work between environments lowers it. The load average says
how busy the machine was with other work.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from bench_plan import children_cpu, jsctl, process_cpu, store_dir_option, timed

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reconciler.dev.servers import NatsServer  # noqa: E402

ENVIRONMENTS = {"dev": ("1d", 1000), "staging": ("7d", 10_000), "prod": ("1y", 1_000_000)}
ALL = "all-envs"


class Run:
    """One command's run: wall seconds, the client's CPU seconds, each server's CPU seconds."""

    def __init__(self, wall: float, client: float, servers: list[float]):
        self.wall, self.client, self.servers = wall, client, servers

    @property
    def cpu(self) -> float:
        return self.client + sum(self.servers)


def measured(argv: list[str], env: dict[str, str], server_stats: list[Path]) -> Run:
    client, servers = children_cpu(), [process_cpu(stat) for stat in server_stats]
    wall = timed(argv, env)
    return Run(wall, children_cpu() - client,
               [process_cpu(stat) - before for stat, before in zip(server_stats, servers, strict=True)])


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.client for r in runs),
               [statistics.median(r.servers[i] for r in runs) for i in range(len(runs[0].servers))])


def cpu_floor(singles: list[Run], cores: int) -> float:
    """The least ratio of --all-envs to the slowest single plan if it had to spend the single plans' CPU
    (clients and servers alike, all on this machine's cores) with every core busy all along."""
    return max(1.0, sum(run.cpu for run in singles) / (cores * max(run.wall for run in singles)))


def write_project(directory: Path, urls: list[str], streams: int, consumers: int, same_variables: bool = False) -> None:
    stream_items = [{"name": f"S{i:05d}", "subjects": [f"s{i:05d}.>"], "max_age": "${retention}",
                     "max_msgs": "${max_msgs}", "duplicate_window": "2m"} for i in range(streams)]
    consumer_items = [{"stream": f"S{i:05d}", "durable_name": f"C{j}", "filter_subject": f"s{i:05d}.{j}",
                       "ack_policy": "explicit", "max_ack_pending": 100}
                      for i in range(streams) for j in range(consumers)]
    # ${max_msgs} must stay a plain scalar to keep its type: write YAML, then unquote the references
    text = yaml.safe_dump({"streams": stream_items}, sort_keys=False).replace("'${max_msgs}'", "${max_msgs}")
    (directory / "streams.yaml").write_text(text)
    (directory / "consumers.yaml").write_text(yaml.safe_dump({"consumers": consumer_items}, sort_keys=False))
    variables = [(name, ENVIRONMENTS["dev"] if same_variables else values) for name, values in ENVIRONMENTS.items()]
    (directory / "jsctl.yaml").write_text(yaml.safe_dump({"environments": {
        name: {"server": url, "variables": {"retention": retention, "max_msgs": max_msgs}}
        for (name, (retention, max_msgs)), url in zip(variables, urls, strict=True)}}, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--same-variables", action="store_true",
                        help="give every environment dev's variables (then their manifests are read once)")
    store_dir_option(parser)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jsctl-bench-envs-")))
        servers = []
        for name in ENVIRONMENTS:
            store = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"jsctl-bench-{name}-", dir=args.store_dir))
            server = NatsServer(Path(store), server_name=name).start()
            stack.callback(server.stop)
            servers.append(server)
        write_project(tmp, [server.url for server in servers], args.streams, args.consumers, args.same_variables)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("NATS_", "JSCTL_"))}
        os.chdir(tmp)
        timed(jsctl("apply", "--all-envs", "--yes"), env)
        commands = {name: jsctl("plan", "--env", name) for name in ENVIRONMENTS}
        commands[ALL] = jsctl("plan", "--all-envs")
        stats = [Path(f"/proc/{server.proc.pid}/stat") for server in servers]
        load = os.getloadavg()[0]
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(args.runs):  # in turns: a busy moment of the shared machine slows each command
            for name, argv in commands.items():
                runs[name].append(measured(argv, env, stats))
    medians = {name: median_run(values) for name, values in runs.items()}
    singles = [medians[name] for name in ENVIRONMENTS]
    slowest = max(run.wall for run in singles)
    cores = os.cpu_count() or 1
    print(f"{args.streams} streams x {args.consumers} consumers per environment"
          f"{', the same variables in each' if args.same_variables else ''}, medians of {args.runs} runs")
    print(f"  {'':<26} {'wall s':>6}  {'client CPU s':>12}  servers' CPU s ({', '.join(ENVIRONMENTS)})")
    for name, run in medians.items():
        label = "jsctl plan --all-envs" if name == ALL else f"jsctl plan --env {name}"
        print(f"  {label:<26} {run.wall:6.2f}  {run.client:12.2f}  {'  '.join(f'{s:4.2f}' for s in run.servers)}")
    print(f"  ratio all-envs / slowest single: {medians[ALL].wall / slowest:.2f}x (goal <= 1.3x); "
          f"CPU floor on {cores} cores: {cpu_floor(singles, cores):.2f}x "
          f"(single plans' CPU {sum(run.cpu for run in singles):.2f} s, clients and servers)")
    print(f"  load average (1 min) before: {load:.1f}, after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
