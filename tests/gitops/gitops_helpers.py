"""Helpers shared by the GitOps tests (a module of its own: `conftest` names clash across test folders)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from support import HACK, REPO

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

__all__ = ["HACK", "REPO", "events", "js_request", "kill_holders", "start_holder"]
HOLDER = Path(__file__).with_name("lock_holder.py")


def js_request(url: str, subject: str, payload: dict | None = None, *, nkey: str | None = None) -> dict:
    """One raw $JS.API request on a fresh connection (for arranging live state by hand)."""
    async def run():
        nc = await connect_nats(NatsSettings(url=url, nkey=nkey))
        try:
            return await JetStreamApi(nc).request(subject, payload)
        finally:
            await nc.close()
    return asyncio.run(run())


HOLDERS: list[subprocess.Popen] = []  # killed after each test by the autouse fixture in conftest.py


def start_holder(url: str, log: Path, *, hold: float, ttl: float = 30, timeout: float = 30) -> subprocess.Popen:
    """Start lock_holder.py: a process that takes the apply lock and logs when."""
    proc = subprocess.Popen([sys.executable, str(HOLDER), url, str(log), "--hold", str(hold), "--ttl", str(ttl),
                             "--timeout", str(timeout)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    HOLDERS.append(proc)
    return proc


def kill_holders() -> None:
    """Kill the holders a test left running (it failed before they ended)."""
    while HOLDERS:
        proc = HOLDERS.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def start_cluster(nats_server_factory, size: int) -> list:
    """``size`` clustered nats-servers (factory-owned, stopped after the test), JetStream meta leader elected."""
    from reconciler.dev.servers import free_ports, wait_for

    # All ports at once: a node picking its own later could get a route port not bound yet.
    ports = free_ports(3 * size)
    routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in ports[:size])
    servers = [nats_server_factory(f"cluster {{ name: C1, listen: 127.0.0.1:{ports[i]}, routes: [{routes}] }}",
                                   server_name=f"n{i}", port=ports[size + i], monitor_port=ports[2 * size + i])
               for i in range(size)]

    def meta_ready() -> bool:
        try:
            js_request(servers[0].url, "STREAM.NAMES")
        except Exception:
            return False
        return True

    wait_for(meta_ready, timeout=30, what="the JetStream meta leader", interval=0.2)
    return servers
