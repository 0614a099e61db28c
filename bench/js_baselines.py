"""Baseline processes for bench_plan.py, each run as its own process like jsctl is.

    python bench/js_baselines.py floor DIR      parse DIR/*.yaml with PyYAML's C loader, list the live
                                                 state with paged STREAM.LIST + CONSUMER.LIST (concurrent)
    python bench/js_baselines.py info DIR       parse, then one sequential INFO request per resource
    python bench/js_baselines.py create DIR     parse, then create every resource one request at a time
    python bench/js_baselines.py burst DIR      parse, then create every stream at once, then every consumer
                                                 at once (up to 256 in flight): the least time any client
                                                 spends on these creates, with nothing checked or verified
    python bench/js_baselines.py update DIR KEY=VALUE
                                                parse, then update every stream at once, then every consumer
                                                 at once (up to 256 in flight), each with its config plus the
                                                 metadata KEY=VALUE, nothing checked: with jsctl's ownership
                                                 mark, the floor of adopting resources that exist without it
                                                 (as `burst` made them)

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
        await request(nc, *consumer_request(c, "create"))


async def all_at_once(nc, requests: list[tuple[str, dict]]) -> None:
    window = asyncio.Semaphore(256)

    async def bounded(subject: str, payload: dict) -> None:
        async with window:
            await request(nc, subject, payload)

    await asyncio.gather(*(bounded(subject, payload) for subject, payload in requests))


def consumer_request(consumer: dict, action: str) -> tuple[str, dict]:
    config = {k: v for k, v in consumer.items() if k != "stream"}
    return (f"CONSUMER.CREATE.{consumer['stream']}.{consumer['durable_name']}",
            {"stream_name": consumer["stream"], "config": config, "action": action})


async def burst(nc, streams: list[dict], consumers: list[dict]) -> None:
    await all_at_once(nc, [(f"STREAM.CREATE.{s['name']}", s) for s in streams])
    await all_at_once(nc, [consumer_request(c, "create") for c in consumers])


async def update(nc, streams: list[dict], consumers: list[dict]) -> None:
    key, _, value = sys.argv[3].partition("=")
    for item in (*streams, *consumers):
        item["metadata"] = {**(item.get("metadata") or {}), key: value}
    await all_at_once(nc, [(f"STREAM.UPDATE.{s['name']}", s) for s in streams])
    await all_at_once(nc, [consumer_request(c, "update") for c in consumers])


async def main(mode: str, directory: str) -> None:
    streams, consumers = parse(Path(directory))
    nc = await nats.connect(os.environ["NATS_URL"])
    try:
        modes = {"floor": floor, "info": info, "create": create, "burst": burst, "update": update}
        await modes[mode](nc, streams, consumers)
    finally:
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
