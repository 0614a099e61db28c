"""A JetStream cluster of nats-server processes on loopback, for tests.

Each node is a ``reconciler.dev.servers.NatsServer`` with a ``cluster {}`` block routing to the
others, its own server name, tags for placement and its own store dir. Ports are chosen once, so
a node killed with SIGKILL restarts on the same ports and store, as a crashed pod would. Readiness
is read from each node's monitoring endpoints: ``/healthz`` (200 once JetStream is current with
the meta leader and every stream and consumer assigned to the node is current) and ``/jsz``
(the meta leader and its view of the peers). Every wait has a deadline.
"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.dev.servers import LOOPBACK, NatsServer, free_ports, nats_server_binary, wait_for

CLUSTER_NAME = "jsctl-test"
READY_TIMEOUT_S = 60


def node_tags(index: int) -> list[str]:
    """``node:nI`` to pin a stream to one node, ``az:`` to spread, ``ssd`` on the first two only."""
    return [f"node:n{index + 1}", f"az:{'abc'[index % 3]}", *(["ssd"] if index < 2 else [])]


def _http_json(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=2) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return 0, {}


@dataclass
class NatsCluster:
    root: Path
    size: int = 3
    binary: str = field(default_factory=nats_server_binary)
    nodes: list[NatsServer] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every node's route, client and monitor ports at once: chosen one by one while the nodes
        # start in parallel, a node could pick a port another node has been given but not bound yet.
        ports = free_ports(3 * self.size)
        route_ports, client_ports, monitor_ports = (ports[i::3] for i in range(3))
        routes = ", ".join(f"nats-route://{LOOPBACK}:{p}" for p in route_ports)
        for index, route_port in enumerate(route_ports):
            config = (
                f"server_tags: {json.dumps(node_tags(index))}\n"
                f"cluster {{ name: {CLUSTER_NAME}, listen: {LOOPBACK}:{route_port}, routes: [{routes}] }}\n"
            )
            self.nodes.append(NatsServer(self.root / f"n{index + 1}", config=config, binary=self.binary,
                                         server_name=f"n{index + 1}", port=client_ports[index],
                                         monitor_port=monitor_ports[index]))

    @property
    def url(self) -> str:
        """All client URLs, comma-separated, as ``--server``/``NATS_URL`` take them."""
        return ",".join(node.url for node in self.nodes)

    @property
    def running(self) -> list[NatsServer]:
        return [node for node in self.nodes if node.proc is not None]

    def node(self, name: str) -> NatsServer:
        return next(node for node in self.nodes if node.server_name == name)

    def start(self, timeout: float = READY_TIMEOUT_S) -> NatsCluster:
        # Nodes start together: each one's JetStream waits for a meta quorum of the others.
        with ThreadPoolExecutor(self.size) as pool:
            list(pool.map(lambda node: node.start(timeout=timeout), self.nodes))
        self.wait_healthy(timeout)
        wait_for(self._places_replicas, timeout=timeout, what="the cluster to place a stream on every node",
                 interval=0.2)
        return self

    def _places_replicas(self) -> bool:
        """A probe stream with one replica per node can be created (and is deleted again). Healthy nodes
        are not enough: until each node's first statistics reach the meta leader, placement calls it
        offline ("no suitable peers for placement, peer offline")."""
        import asyncio

        from reconciler.jetstream.client import ApiError, JetStreamApi
        from reconciler.jetstream.connect import connect_nats
        from reconciler.jetstream.settings import NatsSettings

        async def probe() -> bool:
            nc = await connect_nats(NatsSettings(url=self.url))
            try:
                api = JetStreamApi(nc)
                try:
                    await api.request("STREAM.CREATE.PLACEMENT_PROBE",
                                      {"name": "PLACEMENT_PROBE", "subjects": ["placement.probe"],
                                       "num_replicas": self.size, "storage": "memory"})
                except ApiError:
                    return False
                await api.request("STREAM.DELETE.PLACEMENT_PROBE")
                return True
            finally:
                await nc.close()

        return asyncio.run(probe())

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def kill(self, name: str) -> NatsServer:
        """SIGKILL one node, as a crash would; the others are left to notice by themselves."""
        node = self.node(name)
        node.kill()
        return node

    def restart(self, name: str, timeout: float = READY_TIMEOUT_S) -> None:
        """Start a killed node again on the same ports and store, then wait until the cluster is healthy."""
        self.node(name).start(timeout=timeout)
        self.wait_healthy(timeout)

    # ------------------------------------------------------------ observation

    def meta(self, node: NatsServer) -> dict[str, Any]:
        return _http_json(node.monitor_port, "/jsz")[1].get("meta_cluster") or {}

    def stream_messages(self, node: NatsServer, stream: str) -> int | None:
        """How many messages ``node``'s own replica of ``stream`` holds (None: it has no replica)."""
        details = _http_json(node.monitor_port, "/jsz?accounts=true&streams=true")[1].get("account_details") or []
        for account in details:
            for detail in account.get("stream_detail") or []:
                if detail.get("name") == stream:
                    return (detail.get("state") or {}).get("messages")
        return None

    def meta_leader(self) -> str | None:
        """The meta leader every running node agrees on, itself running, or None."""
        leaders = {self.meta(node).get("leader") for node in self.running}
        alive = {node.server_name for node in self.running}
        return leaders.pop() if len(leaders) == 1 and leaders <= alive else None  # not a dead node's stale name

    def healthy(self) -> bool:
        """Every running node healthy and agreeing on a meta leader that sees all running peers current."""
        if not all(_http_json(node.monitor_port, "/healthz")[0] == 200 for node in self.running):
            return False
        leader = self.meta_leader()
        if leader is None:
            return False
        peers = {p.get("name"): p for p in self.meta(self.node(leader)).get("replicas") or []}
        return all(peers.get(node.server_name, {}).get("current") for node in self.running
                   if node.server_name != leader)

    def wait_healthy(self, timeout: float = READY_TIMEOUT_S) -> None:
        wait_for(self.healthy, timeout=timeout, what=f"cluster {CLUSTER_NAME} healthy", interval=0.1)
