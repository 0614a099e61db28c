"""JetStream domains on every supported server version, with a hub and a leaf node (tests/leafnodes.py):

- the apply lock of a domain is that domain's: held from the hub with ``--js-domain leaf``, its key is written
  through ``$JS.leaf.API.$KV.jsctl_locks.apply`` (as nats.go's KV writes in a domain) and lands in the leaf's
  bucket, even though the hub has a bucket of the same name;
- a mirror of another domain's stream takes no mirror_direct from a local stream of the same name (the server
  looks up only local origins), so it converges as planned;
- a hub stream sources the leaf's stream across the domains (``external.api: $JS.leaf.API``) and holds its
  messages after apply; an origin nobody answers for fails the apply, named;
- a stream of one account sources a stream of another through the API prefix that account imports.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import nats
import pytest
from leafnodes import EDGE_STREAM, HubAndLeaf, start_hub_and_leaf, with_connection
from servers_matrix import server_binary
from support import create_by_hand, write_manifests

from reconciler.dev.servers import NatsServer, wait_for
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.lock import LOCK_BUCKET, LOCK_KEY, ApplyLock, current_lock
from reconciler.jetstream.settings import NatsSettings

HUB_STREAM = {"name": "CENTRAL", "subjects": ["central.>"], "storage": "file",
              "sources": [{"name": "EDGE", "external": {"api": "$JS.leaf.API"}}]}


@pytest.fixture
def hub_and_leaf(tmp_path, nats_server_version) -> Iterator[HubAndLeaf]:
    pair = start_hub_and_leaf(tmp_path, str(server_binary(nats_server_version)))
    yield pair
    pair.stop()


def test_the_lock_held_in_the_leafs_domain_is_in_the_leafs_bucket(hub_and_leaf):
    """Both domains have a jsctl_locks bucket (an apply ran in each): held through the hub with the leaf's
    prefix, the record is in the leaf's bucket (as nats-py reads it, from the hub with the leaf's domain and
    on the leaf itself), and the hub's bucket is untouched."""

    async def hold_and_read():
        nc = await connect_nats(NatsSettings(url=hub_and_leaf.hub.url))
        on_leaf = await nats.connect(hub_and_leaf.leaf.url)
        try:
            async with ApplyLock(nc, timeout_s=5):  # the hub's own bucket, then released
                pass
            hub_before = await _last_seq(nc, "hub")
            async with ApplyLock(nc, timeout_s=5, prefix="$JS.leaf.API") as held:
                readers = [nc.jetstream(domain="leaf"), on_leaf.jetstream()]
                records = [json.loads((await (await js.key_value(LOCK_BUCKET)).get(LOCK_KEY)).value) for js in readers]
                seen = await current_lock(nc, prefix="$JS.leaf.API")
                in_hub = await current_lock(nc)
                return held.id, records, seen, in_hub, hub_before, await _last_seq(nc, "hub")
        finally:
            await on_leaf.close()
            await nc.close()

    lock_id, records, seen, in_hub, hub_before, hub_after = asyncio.run(hold_and_read())
    assert [r["id"] for r in records] == [lock_id, lock_id] and seen is not None and seen.id == lock_id
    assert in_hub is None and hub_after == hub_before


async def _last_seq(nc, domain: str) -> int:
    """The last sequence of the lock bucket's stream in ``domain``."""
    info = await nc.jetstream(domain=domain).stream_info(f"KV_{LOCK_BUCKET}")
    return info.state.last_seq


def test_a_mirror_of_another_domains_stream_ignores_a_local_namesake(jsctl, hub_and_leaf, tmp_path):
    """The hub has its own EDGE with allow_direct and a mirror of the leaf's EDGE made without mirror_direct:
    declaring mirror_direct: true on the mirror is a change to make (a local origin would have given it)."""
    hub, leaf = hub_and_leaf.hub.url, hub_and_leaf.leaf.url
    edge = {"name": "EDGE", "subjects": ["edge.>"]}
    assert jsctl("apply", "--yes", "-s", leaf, *write_manifests(tmp_path / "leaf", [edge], [])).returncode == 0
    namesake = {"name": "EDGE", "subjects": ["hub.edge.>"], "allow_direct": True}
    mirror = {"name": "EDGE_COPY", "mirror": {"name": "EDGE", "external": {"api": "$JS.leaf.API"}}}
    create_by_hand(hub, [namesake, mirror])
    files = write_manifests(tmp_path / "hub", [namesake, {**mirror, "mirror_direct": True}], [])
    plan = jsctl("plan", "-s", hub, *files)
    assert "mirror_direct: (none) -> true" in plan.stdout, plan.stdout + plan.stderr
    applied = jsctl("apply", "--yes", "-s", hub, *files)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = jsctl("plan", "-s", hub, "--detailed-exitcode", *files)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_hub_stream_sources_the_leafs_stream_across_domains(jsctl, hub_and_leaf, tmp_path):
    hub, leaf = hub_and_leaf.hub.url, hub_and_leaf.leaf.url
    leaf_files = write_manifests(tmp_path / "leaf", [EDGE_STREAM], [])
    assert jsctl("apply", "--yes", "-s", leaf, *leaf_files).returncode == 0  # on the leaf itself: its own domain

    async def publish(nc):
        js = nc.jetstream()
        for n in range(5):
            await js.publish(f"edge.sensor.{n}", f"reading {n}".encode())

    with_connection(leaf, publish)
    hub_files = write_manifests(tmp_path / "hub", [HUB_STREAM], [])
    plan = jsctl("plan", "-s", hub, *hub_files)
    assert "stream/CENTRAL  create" in plan.stdout and "$JS.leaf.API" in plan.stdout, plan.stdout + plan.stderr
    applied = jsctl("apply", "--yes", "-s", hub, *hub_files)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    def central_messages() -> int:
        async def count(nc):
            return (await nc.jetstream().stream_info("CENTRAL")).state.messages

        return with_connection(hub, count)

    wait_for(lambda: central_messages() == 5, timeout=30, what="the hub stream to hold the leaf's 5 messages")
    assert jsctl("plan", "-s", hub, "--detailed-exitcode", *hub_files).returncode == 0
    exported = jsctl("export", "-s", hub, "--stream", "CENTRAL", "--stdout")
    assert "$JS.leaf.API" in exported.stdout, exported.stdout + exported.stderr


def test_an_origin_nobody_answers_for_fails_the_apply_naming_it(jsctl, hub_and_leaf, tmp_path):
    lost = {**HUB_STREAM, "name": "LOST", "subjects": ["lost.>"],
            "sources": [{"name": "EDGE", "external": {"api": "$JS.nowhere.API"}}]}
    applied = jsctl("apply", "--yes", "--converge-timeout", "1", "-s", hub_and_leaf.hub.url,
                    *write_manifests(tmp_path, [lost], []))
    assert applied.returncode == 1, applied.stdout + applied.stderr
    assert "stream/LOST: source EDGE via $JS.nowhere.API: no contact yet" in applied.stderr


# Account A lets account B source its streams: B imports what a sourcing consumer needs from A's API under
# the prefix JS.A.API, the flow control replies, and the messages delivered on deliver.b.
TWO_ACCOUNTS = """
accounts {
  A: {
    jetstream: enabled
    users: [{user: a, password: a-pw}]
    exports: [
      {service: "$JS.API.CONSUMER.CREATE.>"}, {service: "$JS.API.CONSUMER.DURABLE.CREATE.>"},
      {service: "$JS.API.CONSUMER.INFO.>"}, {service: "$JS.API.STREAM.INFO.>"}, {service: "$JS.FC.>"},
      {stream: "deliver.b.>"}
    ]
  }
  B: {
    jetstream: enabled
    users: [{user: b, password: b-pw}]
    imports: [
      {service: {account: A, subject: "$JS.API.CONSUMER.CREATE.>"}, to: "JS.A.API.CONSUMER.CREATE.>"}
      {service: {account: A, subject: "$JS.API.CONSUMER.DURABLE.CREATE.>"}, to: "JS.A.API.CONSUMER.DURABLE.CREATE.>"}
      {service: {account: A, subject: "$JS.API.CONSUMER.INFO.>"}, to: "JS.A.API.CONSUMER.INFO.>"}
      {service: {account: A, subject: "$JS.API.STREAM.INFO.>"}, to: "JS.A.API.STREAM.INFO.>"}
      {service: {account: A, subject: "$JS.FC.>"}}
      {stream: {account: A, subject: "deliver.b.>"}}
    ]
  }
}
"""


def test_a_stream_sources_another_accounts_stream(jsctl, tmp_path, nats_server_version):
    server = NatsServer(tmp_path / "server", binary=str(server_binary(nats_server_version)), config=TWO_ACCOUNTS)
    server.start()
    try:
        a, b = ("-s", server.url, "--user", "a", "--password", "a-pw"), ("-s", server.url, "--user", "b",
                                                                          "--password", "b-pw")
        orders = {"name": "ORDERS", "subjects": ["orders.>"]}
        assert jsctl("apply", "--yes", *a, *write_manifests(tmp_path / "a", [orders], [])).returncode == 0

        async def publish(nc):
            for n in range(3):
                await nc.jetstream().publish(f"orders.{n}", b"x")

        with_connection(server.url.replace("nats://", "nats://a:a-pw@"), publish)
        copy = {"name": "COPY", "subjects": ["copy.>"],
                "sources": [{"name": "ORDERS", "external": {"api": "JS.A.API", "deliver": "deliver.b"}}]}
        files = write_manifests(tmp_path / "b", [copy], [])
        applied = jsctl("apply", "--yes", *b, *files)
        assert applied.returncode == 0, applied.stdout + applied.stderr

        async def copied(nc):
            return (await nc.jetstream().stream_info("COPY")).state.messages

        url_b = server.url.replace("nats://", "nats://b:b-pw@")
        wait_for(lambda: with_connection(url_b, copied) == 3, timeout=30, what="COPY to hold ORDERS' 3 messages")
        assert jsctl("plan", *b, "--detailed-exitcode", *files).returncode == 0
    finally:
        server.stop()
