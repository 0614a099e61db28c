"""`jsctl export` on every supported nats-server version (tests/matrix/conftest.py): a varied account made
by hand (the fields the version has), exported minimal or with `--include-defaults`, plans as adopt
only (no field changes), applies, and then plans empty."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import yaml
from jetstream.js_fixtures import VARIED_CONSUMERS, VARIED_STREAMS
from support import create_by_hand

from reconciler.jetstream.capabilities import parse_version, unsupported
from reconciler.manifest.checks import SERVER_OWN_CONSUMER_FIELDS
from reconciler.manifest.model import CONSUMER, STREAM

ADOPT_ONLY: list[str] = []  # an adopt changes no field: the ownership marks are not shown as a diff
EXTRA_CONSUMERS = [("ORDERS", {"durable_name": "AUDIT", "deliver_subject": "audit.orders", "ack_policy": "none"})]


def env(url: str) -> dict[str, str]:
    return {"NATS_URL": url}


def varied_for(version: str) -> tuple[list[dict], list[tuple[str, dict]]]:
    """The varied account's streams and consumers this version has every field of."""
    server = parse_version(version)
    streams = [s for s in VARIED_STREAMS if not unsupported(STREAM, s, server)]
    names = {s["name"] for s in streams}
    consumers = [(c["stream"], {k: v for k, v in c.items() if k != "stream"}) for c in VARIED_CONSUMERS
                 if c["stream"] in names and not unsupported(CONSUMER, c, server)]
    return streams, consumers + EXTRA_CONSUMERS


def wait_for_the_servers_own_consumers(url: str, streams: list[dict], version: str, deadline: float = 30) -> None:
    """From 2.14 the server lists the consumers it makes on an interest stream for each mirror or source
    reading it; it makes them after STREAM.CREATE answered, so wait until every one is listed (else an
    export can miss one that the next plan shows)."""
    if parse_version(version) < (2, 14, 0):
        return
    interest = {s["name"] for s in streams if s.get("retention") == "interest"}
    readers = [s["mirror"]["name"] for s in streams if s.get("mirror")]
    readers += [source["name"] for s in streams for source in s.get("sources", ())]
    expected = {name: readers.count(name) for name in interest if name in readers}

    async def listed() -> dict[str, int]:
        from reconciler.jetstream.client import JetStreamApi
        from reconciler.jetstream.connect import connect_nats
        from reconciler.jetstream.settings import NatsSettings

        nc = await connect_nats(NatsSettings(url=url))
        try:
            api = JetStreamApi(nc)
            found = {}
            for name in expected:
                page = await api.request(f"CONSUMER.LIST.{name}", {"offset": 0})
                found[name] = sum(1 for c in page.get("consumers") or ()
                                  if any(c["config"].get(f) for f in SERVER_OWN_CONSUMER_FIELDS))
            return found
        finally:
            await nc.close()

    end = time.monotonic() + deadline
    while (found := asyncio.run(listed())) != expected:
        assert time.monotonic() < end, f"the server's own consumers: {found}, expected {expected}"
        time.sleep(0.1)


def changes(jsctl, url: str, directory, left_out: str) -> list[tuple[str, str, list[str]]]:
    """The plan's changes; its notes only for what the export left out (the server's own consumers, 2.14 on)."""
    plan = jsctl("plan", "-f", str(directory), "-o", "json", env=env(url))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    found = json.loads(plan.stdout)["changes"]
    for note in (c for c in found if c["action"] == "unmanaged"):
        assert f"{note['address'].removeprefix('consumer/')} (the server's own)" in left_out, note
    return [(c["address"], c["action"], [d["path"] for d in c["diff"]]) for c in found if c["action"] != "unmanaged"]


@pytest.mark.parametrize("flags", [[], ["--include-defaults"]], ids=["minimal", "include-defaults"])
def test_export_plans_as_adopt_only_then_applies_to_no_changes(jsctl, js_account, nats_server_version, tmp_path, flags):
    streams, consumers = varied_for(nats_server_version)
    create_by_hand(js_account, streams, consumers)
    wait_for_the_servers_own_consumers(js_account, streams, nats_server_version)
    done = jsctl("export", "--dir", str(tmp_path), *flags, env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(streams)} streams and {len(consumers)} consumers" in done.stdout
    if flags:  # every field the server stores, defaults included
        written = yaml.safe_load((tmp_path / "streams.yaml").read_text())["streams"]
        assert all({"retention", "storage", "max_msgs", "num_replicas"} <= set(item) for item in written)
    planned = changes(jsctl, js_account, tmp_path, done.stdout)
    assert planned == [(address, "adopt", ADOPT_ONLY) for address, _, _ in planned]
    assert len(planned) == len(streams) + len(consumers)
    applied = jsctl("apply", "-f", str(tmp_path), "--yes", env=env(js_account))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert changes(jsctl, js_account, tmp_path, done.stdout) == []
