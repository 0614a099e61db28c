"""Plan speed of KV buckets vs the same number of equivalent streams, whole processes, in the same run.

    .venv/bin/python bench/bench_buckets.py [--buckets 1000] [--runs 5]

Starts two nats-servers of its own (loopback, temp dirs), applies N KV buckets (buckets.yaml) to one
and N streams with the very configs of those buckets' backing streams, under other names
(streams.yaml), to the other, then times `jsctl plan` (nothing to change) of each, in turns.
Target (issue #13): buckets/streams <= 1.3.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_plan import bench_server, jsctl, store_dir_option, timed  # noqa: E402

TARGET = 1.3


def bucket_items(count: int) -> list[dict]:
    # no max_bytes: file storage reserves it, and 1,000 of them exceed the store of a small machine
    return [{"bucket": f"B{i:05d}", "description": "flags", "history": 5, "ttl": "30d", "max_value_size": "1KiB"}
            for i in range(count)]


async def equivalent_streams(url: str) -> list[dict]:
    """The live backing streams of the buckets, as manifest items of streams of their own (renamed, so
    both sets live side by side in the account both plans read)."""
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.export import minimal
    from reconciler.jetstream.observe import observe
    from reconciler.jetstream.settings import NatsSettings
    from reconciler.manifest.model import STREAM

    nc = await connect_nats(NatsSettings(url=url))
    try:
        live = await observe(JetStreamApi(nc))
    finally:
        await nc.close()
    return [{**minimal(STREAM, item["config"], live), "name": f"S{i:05d}", "subjects": [f"s{i:05d}.>"]}
            for i, item in enumerate(item for _, item in sorted(live.streams.items()))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    store_dir_option(parser)
    args = parser.parse_args()

    # One server each, started together: each plan reads an account holding only its own set.
    with bench_server(args.store_dir) as (work, server, env), \
            bench_server(args.store_dir) as (_, _, stream_env):
        buckets, streams = work / "buckets", work / "streams"
        buckets.mkdir()
        streams.mkdir()
        (buckets / "buckets.yaml").write_text(yaml.safe_dump({"key_value": bucket_items(args.buckets)},
                                                             sort_keys=False))
        timed(jsctl("apply", "--yes", "-f", str(buckets)), env)
        (streams / "streams.yaml").write_text(yaml.safe_dump({"streams": asyncio.run(equivalent_streams(server.url))},
                                                             sort_keys=False))
        timed(jsctl("apply", "--yes", "-f", str(streams)), stream_env)
        seen: dict[str, list[float]] = {"buckets": [], "streams": []}
        for _ in range(args.runs):  # in turns: a busy moment of a shared machine slows both
            seen["buckets"].append(timed(jsctl("plan", "-f", str(buckets), "--detailed-exitcode"), env))
            seen["streams"].append(timed(jsctl("plan", "-f", str(streams), "--detailed-exitcode"), stream_env))
        times = {name: min(values) for name, values in seen.items()}
    ratio = times["buckets"] / times["streams"]
    print(f"plan {args.buckets} KV buckets, no changes: {times['buckets']:.3f} s (best of {args.runs})")
    print(f"plan {args.buckets} equivalent streams, no changes: {times['streams']:.3f} s")
    print(f"buckets/streams: {ratio:.2f} (target <= {TARGET})")


if __name__ == "__main__":
    main()
