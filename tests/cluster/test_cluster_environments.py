"""One set of manifests, two environments of jsctl.yaml: dev on a single server with one replica, prod on
the 3-node cluster with three; `jsctl apply --all-envs` gives each its own, and both plan empty after."""

from __future__ import annotations

import asyncio
import json

import nats
import yaml
from support import run_jsctl

STREAMS = """streams:
  - name: ORDERS
    subjects: [orders.>]
    num_replicas: ${replicas}
    max_age: ${retention}
"""
CONSUMERS = """consumers:
  - stream: ORDERS
    durable_name: SHIPPING
    ack_policy: explicit
    num_replicas: ${replicas}
"""
DAY_NS = 86_400 * 10**9


def configs(url: str) -> tuple[dict, dict, int]:
    """ORDERS and ORDERS/SHIPPING as nats-py reads them, and how many peers ORDERS has."""
    async def read() -> tuple[dict, dict, int]:
        nc = await nats.connect(url.split(","))
        try:
            js = nc.jetstream()
            stream = await js.stream_info("ORDERS")
            consumer = await js.consumer_info("ORDERS", "SHIPPING")
            peers = 1 + len(stream.cluster.replicas or []) if stream.cluster else 1
            return stream.config.as_dict(), consumer.config.as_dict(), peers
        finally:
            await nc.close()

    return asyncio.run(read())


def test_dev_single_server_and_prod_cluster_from_the_same_manifests(cluster, nats_server_factory, tmp_path):
    dev = nats_server_factory(server_name="dev-1")
    (tmp_path / "jsctl.yaml").write_text(yaml.safe_dump({"environments": {
        "dev": {"server": dev.url, "variables": {"replicas": 1, "retention": "1d"}},
        "prod": {"server": cluster.url, "variables": {"replicas": 3, "retention": "30d"}},
    }}, sort_keys=False))
    (tmp_path / "streams.yaml").write_text(STREAMS)
    (tmp_path / "consumers.yaml").write_text(CONSUMERS)

    planned = run_jsctl("plan", "--all-envs", "-o", "json", cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    contexts = {section["name"]: section["plan"]["context"]["nats"] for section in json.loads(planned.stdout)[
        "environments"]}
    assert contexts["dev"]["server_name"] == "dev-1" and contexts["dev"]["cluster"] is None
    assert contexts["prod"]["cluster"] == "jsctl-test"

    applied = run_jsctl("apply", "--all-envs", "--yes", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    for url, replicas, days in ((dev.url, 1, 1), (cluster.url, 3, 30)):
        stream, consumer, peers = configs(url)
        assert (stream["num_replicas"], stream["max_age"], peers) == (replicas, days * DAY_NS, replicas)
        assert consumer["num_replicas"] == replicas

    again = run_jsctl("plan", "--all-envs", "--detailed-exitcode", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
