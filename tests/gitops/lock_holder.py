"""A tiny process that takes the apply lock, holds it, and logs when (for the lock tests).

usage: python lock_holder.py URL LOG --hold SECONDS [--ttl S] [--timeout S]
Appends JSON lines {"event": "acquired"|"released", "t": wall time, "id": lock id} to LOG.
Exits 3 with one line on stderr when the lock stays held past --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from reconciler.errors import JsctlError
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.lock import ApplyLock
from reconciler.jetstream.settings import NatsSettings


def log(path: str, event: str, lock_id: str) -> None:
    with open(path, "a") as f:
        f.write(json.dumps({"event": event, "t": time.time(), "id": lock_id}) + "\n")


async def main(args: argparse.Namespace) -> None:
    nc = await connect_nats(NatsSettings(url=args.url))
    try:
        lock = ApplyLock(nc, timeout_s=args.timeout, ttl_s=args.ttl)
        async with lock:
            log(args.log, "acquired", lock.id)
            # Hold for --hold seconds, or until the refresher finds the lock lost (force-unlocked).
            deadline = time.monotonic() + args.hold
            while not lock.lost and time.monotonic() < deadline:
                await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            await lock.ensure_held()
            log(args.log, "released", lock.id)
    finally:
        await nc.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("log")
    parser.add_argument("--hold", type=float, required=True)
    parser.add_argument("--ttl", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=30)
    try:
        asyncio.run(main(parser.parse_args()))
    except JsctlError as exc:
        print(f"jsctl: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
