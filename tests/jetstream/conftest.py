"""Helpers for the JetStream planner tests: manifests built from plain dicts, a connected API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from reconciler.connection import NatsSettings, connect_nats
from reconciler.jsapi import JetStreamApi
from reconciler.manifest.model import CONSUMER, STREAM, DeclaredResource, Desired


def desired_of(streams: list[dict] = (), consumers: list[dict] = ()) -> Desired:
    """A Desired as the manifest loader returns it; consumer dicts carry ``stream``."""
    desired = Desired()
    for config in streams:
        desired.streams[config["name"]] = DeclaredResource(STREAM, config["name"], dict(config))
    for item in consumers:
        config = {k: v for k, v in item.items() if k != "stream"}
        name = config.get("durable_name") or config["name"]
        desired.consumers[(item["stream"], name)] = DeclaredResource(CONSUMER, name, config, stream=item["stream"])
    return desired


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
