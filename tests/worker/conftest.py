"""Fixtures of the worker tests: a migrated database and the seed's stream and consumers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reconciler.connection import DatabaseSettings, NatsSettings, connect_nats
from reconciler.jsapi import JetStreamApi

REPO = Path(__file__).resolve().parents[2]

STREAM = "USER_TXN"
ONE_DAY_NS = 24 * 3600 * 10**9
# What the repo's streams.yaml / consumers.yaml declare (the seed's `nats stream add` / `consumer add`).
# Created here with raw $JS.API requests; to be replaced by `jsctl apply` of the repo's manifests.
STREAM_CONFIG = {"name": STREAM, "subjects": ["USER_TXN.*"], "storage": "file", "retention": "limits",
                 "duplicate_window": ONE_DAY_NS, "num_replicas": 1}
CONSUMERS = {"GRP_MAKER": "USER_TXN.maker", "GRP_VALIDATOR": "USER_TXN.validator"}


# ack_wait is short here so a killed worker's batch comes back within the tests' time budget.
ACK_WAIT_NS = 3 * 10**9


async def create_user_txn(url: str) -> None:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        await api.request(f"STREAM.CREATE.{STREAM}", STREAM_CONFIG)
        for name, subject in CONSUMERS.items():
            await api.request(f"CONSUMER.CREATE.{STREAM}.{name}", {"stream_name": STREAM, "config": {
                "durable_name": name, "filter_subject": subject, "ack_policy": "explicit",
                "deliver_policy": "all", "max_ack_pending": 100, "ack_wait": ACK_WAIT_NS}})
    finally:
        await nc.close()


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
