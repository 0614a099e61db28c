"""Fixtures for the JetStream planner tests: a connected API on the clean shared account."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from js_fixtures import VARIED_CONSUMERS, VARIED_STREAMS, desired_of

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest.model import Desired


@pytest.fixture
def make_desired() -> Callable[..., Desired]:
    return desired_of


@pytest.fixture
def run_js(js_account) -> Callable:
    """Run ``coro_fn(api)`` on a fresh connection to the clean shared account; returns its result."""

    def run(coro_fn):
        async def main():
            nc = await connect_nats(NatsSettings(url=js_account))
            try:
                return await coro_fn(JetStreamApi(nc))
            finally:
                await nc.close()

        return asyncio.run(main())

    return run


@pytest.fixture
def varied() -> Desired:
    return desired_of(VARIED_STREAMS, VARIED_CONSUMERS)
