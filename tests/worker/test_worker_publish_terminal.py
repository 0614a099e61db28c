"""`jsctl publish` pacing (`--rate`) and its progress bar on a terminal (real nats-server)."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time

from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.worker.publish import publish_events, random_events
from tests.worker.harness import MAKER, REPO


def test_rate_paces_the_publishes(user_txn):
    async def paced() -> tuple[float, int]:
        nc = await connect_nats(NatsSettings(url=user_txn))
        try:
            started = time.monotonic()
            summary = await publish_events(nc, MAKER, random_events(41), rate=200.0)
            return time.monotonic() - started, summary.published
        finally:
            await nc.close()

    elapsed, published = asyncio.run(paced())
    assert published == 41
    assert elapsed >= 40 / 200  # the 41st message is due 0.2 s after the first


def test_progress_bar_on_a_terminal(user_txn):
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "publish", "--server", user_txn, "--count", "500"],
                                stdout=subprocess.PIPE, stderr=terminal, cwd=REPO)
        os.close(terminal)
        shown, deadline = b"", time.monotonic() + 60
        while time.monotonic() < deadline:  # until the child closes its end of the terminal
            if not select.select([controller], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the child's end is closed
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = proc.communicate(timeout=60)
    finally:
        os.close(controller)
    assert proc.returncode == 0
    assert b"publishing" in shown and b"100%" in shown
    assert stdout.decode().strip() == "published 500, duplicates 0, failed 0"
