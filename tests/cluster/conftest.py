"""A 3-node JetStream cluster on loopback, shared by the tests in this directory.

Here ``nats_server`` is the cluster (its ``url`` lists every node), so ``js_account`` and the
other fixtures built on it work unchanged against it. ``cluster`` hands a test the cluster and
afterwards restarts any node the test killed and waits until the cluster is healthy again,
before ``js_account`` deletes the test's streams.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nats_cluster import NatsCluster

from tests.worker.conftest import worker_db  # noqa: F401 - a migrated database, shared with the worker tests


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory) -> Iterator[NatsCluster]:
    cluster = NatsCluster(tmp_path_factory.mktemp("cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster(nats_server: NatsCluster, js_account) -> Iterator[NatsCluster]:
    yield nats_server
    for node in nats_server.nodes:
        if node.proc is None:
            nats_server.restart(node.server_name)
    nats_server.wait_healthy()
