"""Fixtures of the database tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def dev_url(postgres) -> str:
    """The scratch database `jsctl db` builds the migrations' schema in (--dev-url)."""
    return postgres.url()
