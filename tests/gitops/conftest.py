"""Helpers for the GitOps tests: a project directory with the repository's own manifests."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from reconciler.connection import NatsSettings, connect_nats
from reconciler.jsapi import JetStreamApi

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> Path:
    """A working directory holding copies of the seed's streams.yaml and consumers.yaml."""
    for name in ("streams.yaml", "consumers.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def js_request(url: str, subject: str, payload: dict | None = None, *, nkey: str | None = None) -> dict:
    """One raw $JS.API request on a fresh connection (for arranging live state by hand)."""
    async def run():
        nc = await connect_nats(NatsSettings(url=url, nkey=nkey))
        try:
            return await JetStreamApi(nc).request(subject, payload)
        finally:
            await nc.close()
    return asyncio.run(run())
