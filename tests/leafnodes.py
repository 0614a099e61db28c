"""A hub nats-server and a leaf-node nats-server connected to it, each with its own JetStream domain
(``hub``, ``leaf``), on loopback: how a site runs JetStream at the edge. Readiness: the hub answers
requests to the leaf's JetStream API (``$JS.leaf.API.INFO``), within a deadline."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

from reconciler.dev.servers import LOOPBACK, NatsServer, free_ports, nats_server_binary

HUB, LEAF = "hub", "leaf"
READY_TIMEOUT_S = 30
EDGE_STREAM = {"name": "EDGE", "subjects": ["edge.>"], "storage": "file"}  # a stream of the leaf, in examples


@dataclass
class HubAndLeaf:
    hub: NatsServer
    leaf: NatsServer

    def stop(self) -> None:
        self.leaf.stop()
        self.hub.stop()


def start_hub_and_leaf(root: Path, binary: str | None = None) -> HubAndLeaf:
    binary = binary or nats_server_binary()
    client, monitor, leafnodes = free_ports(3)  # at once: the hub's own ports and the one the leaf dials
    hub = NatsServer(root / HUB, port=client, monitor_port=monitor, binary=binary, server_name=HUB, js_domain=HUB,
                     config=f"leafnodes {{ listen: {LOOPBACK}:{leafnodes} }}").start()
    try:
        leaf = NatsServer(root / LEAF, binary=binary, server_name=LEAF, js_domain=LEAF,
                          config=f'leafnodes {{ remotes: [{{ url: "nats-leaf://{LOOPBACK}:{leafnodes}" }}] }}').start()
    except BaseException:
        hub.stop()
        raise
    pair = HubAndLeaf(hub, leaf)
    try:
        asyncio.run(_wait_reachable(hub.url, f"$JS.{LEAF}.API.INFO"))
    except BaseException:
        pair.stop()
        raise
    return pair


async def _wait_reachable(url: str, subject: str) -> None:
    import nats

    nc = await nats.connect(url)
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while True:
            try:
                reply = json.loads((await nc.request(subject, b"", timeout=1)).data)
                if reply.get("domain") == LEAF:
                    return
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the hub did not reach the leaf's JetStream within {READY_TIMEOUT_S}s")
            await asyncio.sleep(0.1)
    finally:
        await nc.close()


def with_connection(url: str, work):
    """``await work(nc)`` on a fresh nats-py connection to ``url``, closed afterwards; its result."""
    import nats

    async def main():
        nc = await nats.connect(url)
        try:
            return await work(nc)
        finally:
            await nc.close()

    return asyncio.run(main())
