"""The bench scripts start: their imports resolve (they run outside pytest, with no conftest on the path)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import REPO

BENCHES = sorted((REPO / "bench").glob("bench_*.py"))


@pytest.mark.parametrize("script", BENCHES, ids=lambda path: path.name)
def test_bench_script_starts(script):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60,
                          cwd=REPO.parent)
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout
