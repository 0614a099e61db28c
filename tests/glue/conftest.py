"""Fixtures of the glue tests: a project directory and `jsctl` connected to the test's servers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import REPO, run_jsctl


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("streams.yaml", "consumers.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.fixture
def run(js_account, database_url, postgres, project):
    """`jsctl ...` in the project, connected to the test's account and database (scratch databases
    on the same Postgres, through JSCTL_DEV_DATABASE_URL)."""
    env = {"NATS_URL": js_account, "DATABASE_URL": database_url, "JSCTL_DEV_DATABASE_URL": postgres.url()}

    def jsctl(*args: str):
        return run_jsctl(*args, env=env, cwd=project)

    return jsctl
