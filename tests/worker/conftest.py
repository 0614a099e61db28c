"""Fixtures of the worker tests: a migrated database and the seed's stream and consumers."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.connection import DatabaseSettings
from tests.worker.harness import REPO, create_user_txn


@pytest.fixture
def worker_db(database_url) -> str:
    """A fresh database at the head revision (the schema plus the worker's batch function)."""
    from reconciler.db import upgrade_to_head

    upgrade_to_head(DatabaseSettings(database_url), REPO / "migrations")
    return database_url


@pytest.fixture
def user_txn(js_account) -> str:
    """The shared nats-server with the seed's stream and consumers (deleted after the test)."""
    asyncio.run(create_user_txn(js_account))
    return js_account
