"""`jsctl plan --all-envs` over 3 environments vs the slowest single-environment plan, same run.

    .venv/bin/python bench/bench_environments.py [--streams 200] [--consumers 2] [--runs 5]

Starts 3 nats-servers of its own (loopback, temp dirs), one per environment of a jsctl.yaml; writes one
set of manifests (N streams x M consumers) whose max_age and max_msgs come from each environment's
variables; applies them with `apply --all-envs`; then times, in turns, `jsctl plan --env E` for each
environment and `jsctl plan --all-envs` (nothing to change), and prints the ratio of the latter to the
slowest of the former (goal: at most 1.3).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

import yaml
from bench_plan import best_alternating, jsctl, store_dir_option, timed

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reconciler.dev.servers import NatsServer  # noqa: E402

ENVIRONMENTS = {"dev": ("1d", 1000), "staging": ("7d", 10_000), "prod": ("1y", 1_000_000)}


def write_project(directory: Path, urls: list[str], streams: int, consumers: int) -> None:
    stream_items = [{"name": f"S{i:05d}", "subjects": [f"s{i:05d}.>"], "max_age": "${retention}",
                     "max_msgs": "${max_msgs}", "duplicate_window": "2m"} for i in range(streams)]
    consumer_items = [{"stream": f"S{i:05d}", "durable_name": f"C{j}", "filter_subject": f"s{i:05d}.{j}",
                       "ack_policy": "explicit", "max_ack_pending": 100}
                      for i in range(streams) for j in range(consumers)]
    # ${max_msgs} must stay a plain scalar to keep its type: write YAML, then unquote the references
    text = yaml.safe_dump({"streams": stream_items}, sort_keys=False).replace("'${max_msgs}'", "${max_msgs}")
    (directory / "streams.yaml").write_text(text)
    (directory / "consumers.yaml").write_text(yaml.safe_dump({"consumers": consumer_items}, sort_keys=False))
    (directory / "jsctl.yaml").write_text(yaml.safe_dump({"environments": {
        name: {"server": url, "variables": {"retention": retention, "max_msgs": max_msgs}}
        for (name, (retention, max_msgs)), url in zip(ENVIRONMENTS.items(), urls, strict=True)}}, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
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
        write_project(tmp, [server.url for server in servers], args.streams, args.consumers)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("NATS_", "JSCTL_"))}
        os.chdir(tmp)
        timed(jsctl("apply", "--all-envs", "--yes"), env)
        commands = {name: jsctl("plan", "--env", name) for name in ENVIRONMENTS}
        commands["all"] = jsctl("plan", "--all-envs")
        times = best_alternating(commands, env, args.runs)
    slowest = max(times[name] for name in ENVIRONMENTS)
    print(f"{args.streams} streams x {args.consumers} consumers per environment, best of {args.runs} runs")
    for name in ENVIRONMENTS:
        print(f"  jsctl plan --env {name:<8} {times[name]:6.2f} s")
    print(f"  jsctl plan --all-envs      {times['all']:6.2f} s")
    print(f"  ratio all-envs / slowest single: {times['all'] / slowest:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()
