"""The README's first command, `./hack/demo.sh`, end to end on its embedded servers: plan, apply, publish,
worker until idle with its approved/rejected summary, and a plan with nothing left to change."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from support import REPO, run_jsctl


def test_demo_runs_the_main_job_end_to_end(server_tmp):
    dev_dir = Path(tempfile.mkdtemp(prefix="demo-", dir=server_tmp)) / "dev"
    env = {**os.environ, "JSCTL_DEV_DIR": str(dev_dir), "JSCTL_DEMO_EVENTS": "300"}
    env.pop("DATABASE_URL", None)
    try:
        done = subprocess.run(["bash", str(REPO / "hack" / "demo.sh")], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=600)
    finally:
        run_jsctl("dev", "down", "--purge", "--dir", str(dev_dir))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "Apply complete" in output and "published 300, duplicates 0, failed 0" in output
    summary = next(line for line in output.splitlines() if "idle, exiting" in line)
    assert "processed=300" in summary and "approved=" in summary and "rejected=" in summary
    assert done.stdout.rstrip().endswith("No changes.")
