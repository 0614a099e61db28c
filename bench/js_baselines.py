"""Baseline processes for bench_plan.py, each run as its own process like jsctl is.

    python bench/js_baselines.py floor DIR      parse DIR/*.yaml with PyYAML's C loader, list the live
                                                 state with paged STREAM.LIST + CONSUMER.LIST (concurrent)
    python bench/js_baselines.py info DIR       parse, then one sequential INFO request per resource
    python bench/js_baselines.py create DIR     parse, then create every resource one request at a time
    python bench/js_baselines.py burst DIR      parse, then create every stream at once, then every consumer
                                                 at once (up to 256 in flight): the least time any client
                                                 spends on these creates, with nothing checked or verified

The server URL comes from NATS_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import nats
import yaml


def parse(directory: Path) -> tuple[list[dict], list[dict]]:
    streams = yaml.load((directory / "streams.yaml").read_text(), Loader=yaml.CSafeLoader)["streams"]
    consumers = yaml.load((directory / "consumers.yaml").read_text(), Loader=yaml.CSafeLoader)["consumers"]
    return streams, consumers


async def request(nc, subject: str, payload: dict | None = None) -> dict:
    msg = await nc.request(f"$JS.API.{subject}", json.dumps(payload or {}).encode(), timeout=10)
    reply = json.loads(msg.data)
    if "error" in reply:
        raise SystemExit(f"{subject}: {reply['error']}")
    return reply


async def paged(nc, subject: str, key: str) -> list:
    items: list = []
    while True:
        reply = await request(nc, subject, {"offset": len(items)})
        items += reply.get(key) or []
        if not reply.get(key) or len(items) >= reply.get("total", 0):
            return items


async def floor(nc, streams: list[dict], consumers: list[dict]) -> None:
    live = await paged(nc, "STREAM.LIST", "streams")
    await asyncio.gather(*(paged(nc, f"CONSUMER.LIST.{s['config']['name']}", "consumers") for s in live))


async def info(nc, streams: list[dict], consumers: list[dict]) -> None:
    for s in streams:
        await request(nc, f"STREAM.INFO.{s['name']}")
    for c in consumers:
        await request(nc, f"CONSUMER.INFO.{c['stream']}.{c['durable_name']}")


async def create(nc, streams: list[dict], consumers: list[dict]) -> None:
    for s in streams:
        await request(nc, f"STREAM.CREATE.{s['name']}", s)
    for c in consumers:
        config = {k: v for k, v in c.items() if k != "stream"}
        await request(nc, f"CONSUMER.CREATE.{c['stream']}.{c['durable_name']}",
                      {"stream_name": c["stream"], "config": config, "action": "create"})


async def burst(nc, streams: list[dict], consumers: list[dict]) -> None:
    window = asyncio.Semaphore(256)

    async def bounded(subject: str, payload: dict) -> None:
        async with window:
            await request(nc, subject, payload)

    await asyncio.gather(*(bounded(f"STREAM.CREATE.{s['name']}", s) for s in streams))
    await asyncio.gather(*(bounded(f"CONSUMER.CREATE.{c['stream']}.{c['durable_name']}",
                                   {"stream_name": c["stream"], "config": {k: v for k, v in c.items() if k != "stream"},
                                    "action": "create"}) for c in consumers))


async def main(mode: str, directory: str) -> None:
    streams, consumers = parse(Path(directory))
    nc = await nats.connect(os.environ["NATS_URL"])
    try:
        await {"floor": floor, "info": info, "create": create, "burst": burst}[mode](nc, streams, consumers)
    finally:
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
