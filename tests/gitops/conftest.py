"""Fixtures for the GitOps tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitops_helpers import REPO, kill_holders


@pytest.fixture
def project(tmp_path) -> Path:
    """A working directory holding copies of the seed's streams.yaml, consumers.yaml and jsctl.yaml (its owner)."""
    for name in ("streams.yaml", "consumers.yaml", "jsctl.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


@pytest.fixture(autouse=True)
def _no_holder_left_behind() -> Iterator[None]:
    yield
    kill_holders()
