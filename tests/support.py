"""Paths and the jsctl runner shared by tests (test modules import this, never conftest:
several directories have a conftest.py and pytest imports each of them as `conftest`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HACK = REPO / "hack"
# The JetStream API's own JSON Schemas (the oracle): ../shared/reference beside the checkout, or
# further up for a worktree; None where the checkout has no shared/ beside it.
REFERENCE_SCHEMAS = next((parent / "shared" / "reference" / "jetstream-api-schemas" for parent in REPO.parents
                          if (parent / "shared" / "reference" / "jetstream-api-schemas").is_dir()), None)


def run_jsctl(*args: str, env: dict[str, str] | None = None, cwd: Path | str | None = None,
              input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `jsctl` console entry point in a child process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, input=input, timeout=timeout)


def write_manifests(directory: Path, streams: list[dict], consumers: list[dict]) -> list[str]:
    """``streams.yaml`` and ``consumers.yaml`` in ``directory``; the ``-f`` arguments that read them."""
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "streams.yaml").write_text(yaml.safe_dump({"streams": streams}, sort_keys=False))
    (directory / "consumers.yaml").write_text(yaml.safe_dump({"consumers": consumers}, sort_keys=False))
    return ["-f", str(directory)]


def kubernetes_pod(path: Path) -> dict:
    """The pod spec of a CronJob or a Deployment file (hack/)."""
    import yaml

    document = yaml.safe_load(path.read_text())
    if document["kind"] == "CronJob":
        return document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return document["spec"]["template"]["spec"]


def stream_names(url: str) -> list[str]:
    """The application's live streams on the server at ``url`` (jsctl's own lock bucket left out)."""
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.lock import is_jsctl_internal
    from reconciler.jetstream.settings import NatsSettings

    async def names() -> list[str]:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            return await JetStreamApi(nc).paged("STREAM.NAMES", "streams")
        finally:
            await nc.close()

    return [n for n in asyncio.run(names()) if not is_jsctl_internal(n)]


def delete_all_streams(url: str, nkey: str | None = None) -> None:
    """Delete every stream of the account (jsctl's lock bucket too): a clean account for the next test."""
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.settings import NatsSettings

    async def delete() -> None:
        nc = await connect_nats(NatsSettings(url=url, nkey=nkey))
        try:
            api = JetStreamApi(nc)
            for name in await api.paged("STREAM.NAMES", "streams"):
                await api.request(f"STREAM.DELETE.{name}")
        finally:
            await nc.close()

    asyncio.run(delete())


def create_by_hand(url: str, streams: list[dict], consumers: list[tuple[str, dict]] = ()) -> None:
    """Streams and (durable) consumers made as natscli or an application makes them: raw API requests,
    no jsctl mark."""
    from reconciler.jetstream.client import JetStreamApi
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.settings import NatsSettings

    async def create() -> None:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            api = JetStreamApi(nc)
            for config in streams:
                await api.request(f"STREAM.CREATE.{config['name']}", config)
            for stream, config in consumers:
                await api.request(f"CONSUMER.CREATE.{stream}.{config['durable_name']}",
                                  {"stream_name": stream, "config": config})
        finally:
            await nc.close()

    asyncio.run(create())


async def processed(nc) -> None:
    """Return once the server has processed everything ``nc`` queued so far (a SUB, publishes).

    nats-py 2.16's ``flush()`` writes its PING straight to the socket, ahead of commands still in
    its queue, so it can return before a new subscription reached the server (8 of 200 here); a
    message to ourselves goes through the same queue, so its arrival proves what came before it.
    """
    inbox = nc.new_inbox()
    echo = await nc.subscribe(inbox, max_msgs=1)
    await nc.publish(inbox, b"")
    await echo.next_msg(timeout=5)


def apply_and_replan(url: str, manifests: Path) -> dict[str, list[tuple]]:
    """Plan the manifests in ``manifests``, apply them (apply verifies what the server stored) and plan
    again: what that plan still changes, {address: [(path, before, after)]}. Skips the test when the
    connected server lacks a field of them; any other plan error fails it."""
    import pytest

    from reconciler.jetstream.session import JetStreamSession
    from reconciler.jetstream.settings import NatsSettings
    from reconciler.manifest import load_desired

    desired = load_desired([manifests])

    async def run():
        async with JetStreamSession(NatsSettings(url=url)) as session:
            first = await session.plan(desired)
            if first.errors and all("needs nats-server" in e for e in first.errors):
                pytest.skip("; ".join(first.errors))
            assert not first.errors
            await session.apply(desired, first.pending)  # raises VerifyFailed if the server kept another value
            return (await session.plan(desired)).changes

    return {c.address: [(d.path, d.before, d.after) for d in c.diff] for c in asyncio.run(run())}


def leftover_servers(bases: list[Path], grace: float = 10) -> dict[int, str]:
    """Processes whose command line names a path under ``bases``, after waiting ``grace`` s for them to exit."""
    from reconciler.dev.servers import pid_alive, wait_for

    found: dict[int, str] = {}

    def scan() -> bool:
        found.clear()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(f"{base}/" in cmdline for base in bases) and pid_alive(int(entry.name)):
                found[int(entry.name)] = cmdline.strip()
        return not found

    with contextlib.suppress(TimeoutError):
        wait_for(scan, timeout=grace, what="servers to exit", interval=0.2)
    return dict(found)


def lock_holder(url: str):
    """The apply lock's live holder on the server at ``url`` (a LockRecord), or None when it is free."""
    from reconciler.jetstream.connect import connect_nats
    from reconciler.jetstream.lock import current_lock
    from reconciler.jetstream.settings import NatsSettings

    async def read():
        nc = await connect_nats(NatsSettings(url=url))
        try:
            return await current_lock(nc)
        finally:
            await nc.close()

    return asyncio.run(read())
