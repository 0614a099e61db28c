"""Fixtures of the worker tests: a migrated database, the seed's stream and consumers, a hub and a leaf."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from leafnodes import HubAndLeaf, start_hub_and_leaf

from reconciler.db.settings import DatabaseSettings
from tests.worker.harness import REPO, create_user_txn, new_database


@pytest.fixture
def worker_db(postgres) -> str:
    """A fresh database at the head revision (the schema plus the worker's batch function).

    Created over TCP rather than with ``database_url`` (createdb on the Unix socket): other pytest
    sessions on the machine reset the permissions of pytest's temp root, and the socket under it
    becomes unreachable for the client.
    """
    from reconciler.db import upgrade_to_head

    database_url = new_database(postgres)
    upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
    return database_url


@pytest.fixture
def user_txn(js_account) -> str:
    """The shared nats-server with the repo's streams.yaml and consumers.yaml applied (deleted after the test)."""
    create_user_txn(js_account)
    return js_account


@pytest.fixture
def hub_and_leaf(tmp_path) -> Iterator[HubAndLeaf]:
    """A hub and a leaf node with JetStream domains hub and leaf (tests/leafnodes.py)."""
    pair = start_hub_and_leaf(tmp_path)
    yield pair
    pair.stop()
