"""JetStream domains: --js-domain (and a natscli context's jetstream_domain) sends every API request through
``$JS.<domain>.API``; the apply lock is the domain's own; a hub stream sources a leaf node's stream across
domains. Real servers: a hub nats-server (domain ``hub``) and a leaf node (domain ``leaf``) on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from expect import one_line_error
from hypothesis import given
from hypothesis import strategies as st
from leafnodes import EDGE_STREAM, HubAndLeaf, start_hub_and_leaf, with_connection
from support import write_manifests
from test_connection import write_context
from test_js_plan_unit import LIVE_ORDERS, live_of

from reconciler.errors import UserError
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.lock import LOCK_BUCKET, LOCK_KEY, ApplyLock, LockLost
from reconciler.jetstream.origins import not_in_contact
from reconciler.jetstream.plan import plan_jetstream
from reconciler.jetstream.settings import (
    NatsSettings,
    api_prefix,
    domain_problem,
    kv_put_subject,
    resolve_nats_settings,
)


@pytest.fixture(scope="module")
def hub_and_leaf(tmp_path_factory) -> Iterator[HubAndLeaf]:
    pair = start_hub_and_leaf(tmp_path_factory.mktemp("domains"))
    yield pair
    pair.stop()


# ------------------------------------------------------------------ settings (pure)


def test_api_prefix_follows_the_domain():
    assert api_prefix(NatsSettings()) == "$JS.API"
    assert api_prefix(NatsSettings(js_domain="leaf")) == "$JS.leaf.API"


def test_kv_keys_are_written_through_the_domains_prefix():
    assert kv_put_subject("$JS.API", LOCK_BUCKET, LOCK_KEY) == f"$KV.{LOCK_BUCKET}.{LOCK_KEY}"
    assert kv_put_subject("$JS.leaf.API", "B", "a.b") == "$JS.leaf.API.$KV.B.a.b"


@given(st.text(max_size=20))
def test_a_domain_is_accepted_exactly_when_nats_server_would(domain):
    # nats-server's validateJetStreamOptions: not empty, no whitespace, '.', '*' or '>' (and printable here)
    server_accepts = bool(domain) and not any(c.isspace() or c in ".*>" for c in domain)
    problem = domain_problem(domain)
    assert problem is None or problem.startswith(("invalid JetStream domain", "the JetStream domain"))
    if problem is None:
        assert server_accepts and api_prefix(NatsSettings(js_domain=domain)).count(".") == 2


def test_the_contexts_jetstream_domain_fills_an_unset_domain():
    write_context("edge", jetstream_domain="leaf")
    assert resolve_nats_settings(NatsSettings(context="edge")).js_domain == "leaf"
    assert resolve_nats_settings(NatsSettings(context="edge", js_domain="hub")).js_domain == "hub"


def test_a_bad_domain_from_the_context_names_the_context():
    write_context("edge", jetstream_domain="a.b")
    with pytest.raises(UserError, match=r"nats context edge: jetstream_domain: invalid JetStream domain 'a.b'"):
        resolve_nats_settings(NatsSettings(context="edge"))


@pytest.mark.parametrize("domain", ["a.b", "x>", "has space", "*", ""])
def test_a_bad_domain_flag_or_variable_is_one_line_naming_it(jsctl, tmp_path, domain):
    files = write_manifests(tmp_path, [EDGE_STREAM], [])
    one_line_error(jsctl("plan", "--js-domain", domain, *files), "--js-domain: ")
    if domain:  # click reads an empty variable as unset
        one_line_error(jsctl("plan", *files, env={"JSCTL_JS_DOMAIN": domain}), "JSCTL_JS_DOMAIN: invalid JetStream")


def test_a_changed_external_origin_plans_as_a_field_and_an_empty_deliver_as_none(make_desired):
    origin = {"name": "EDGE", "external": {"api": "$JS.leaf.API", "deliver": ""}}  # as the server reports it
    live = live_of([{**LIVE_ORDERS, "name": "COPY", "subjects": [], "duplicate_window": 0, "mirror": origin},
                    {**LIVE_ORDERS, "name": "SUM", "sources": [origin]}])
    same = make_desired([{"name": "COPY", "mirror": {"name": "EDGE", "external": {"api": "$JS.leaf.API"}}},
                         {"name": "SUM", "subjects": ["orders.>"],
                          "sources": [{"name": "EDGE", "external": {"api": "$JS.leaf.API"}}]}])
    assert plan_jetstream(same, live).changes == []
    moved = make_desired([{"name": "COPY", "mirror": {"name": "EDGE", "external": {"api": "$JS.edge2.API"}}}])
    [change] = [c for c in plan_jetstream(moved, live).changes if str(c.address) == "stream/COPY"]
    assert change.action == "replace" and [(d.path, d.before, d.after) for d in change.diff] == [
        ("mirror.external.api", "$JS.leaf.API", "$JS.edge2.API")]


# ------------------------------------------------------------------ hub and leaf


def _stream_names(url: str, domain: str) -> list[str]:
    async def names(nc):
        return [s.config.name async for s in _streams(nc.jetstream(domain=domain))]

    return with_connection(url, names)


async def _streams(js):
    for info in await js.streams_info():
        yield info


def test_plan_and_apply_in_the_leafs_domain_through_the_hub(jsctl, hub_and_leaf, tmp_path):
    files = write_manifests(tmp_path, [EDGE_STREAM], [])
    hub = hub_and_leaf.hub.url
    plan = jsctl("plan", "-s", hub, "--js-domain", "leaf", *files)
    assert plan.returncode == 0, plan.stderr
    assert "API level" in plan.stdout and "domain leaf" in plan.stdout and "stream/EDGE  create" in plan.stdout
    as_json = json.loads(jsctl("plan", "-s", hub, "--js-domain", "leaf", "-o", "json", *files).stdout)
    assert as_json["context"]["nats"]["domain"] == "leaf"
    applied = jsctl("apply", "--yes", "-s", hub, "--js-domain", "leaf", *files)
    assert applied.returncode == 0, applied.stderr
    assert "EDGE" in _stream_names(hub_and_leaf.leaf.url, "leaf")
    assert "EDGE" not in _stream_names(hub, "hub")
    # the apply's lock was the leaf's: its bucket is there, the hub has none
    assert f"KV_{LOCK_BUCKET}" in _stream_names(hub_and_leaf.leaf.url, "leaf")
    assert f"KV_{LOCK_BUCKET}" not in _stream_names(hub, "hub")
    again = jsctl("plan", "-s", hub, "--js-domain", "leaf", "--detailed-exitcode", *files)
    assert again.returncode == 0, again.stdout + again.stderr
    ping = jsctl("ping", "-s", hub, "--js-domain", "leaf")
    assert "domain leaf" in ping.stdout, ping.stdout + ping.stderr
    exported = jsctl("export", "-s", hub, "--js-domain", "leaf", "--stdout")
    assert "name: EDGE" in exported.stdout and "JetStream domain leaf" in exported.stdout, exported.stdout


def test_a_saved_plan_for_the_leafs_domain_is_refused_in_the_hubs(jsctl, hub_and_leaf, tmp_path):
    files = write_manifests(tmp_path, [{**EDGE_STREAM, "name": "SAVED", "subjects": ["saved.>"]}], [])
    saved = tmp_path / "leaf.plan"
    planned = jsctl("plan", "-s", hub_and_leaf.hub.url, "--js-domain", "leaf", "--out", str(saved), *files)
    assert planned.returncode == 0, planned.stderr
    refused = jsctl("apply", "-s", hub_and_leaf.hub.url, str(saved))
    assert refused.returncode == 3 and "JetStream domain leaf" in refused.stderr, refused.stdout + refused.stderr


def test_not_in_contact_reads_active_and_error():
    external = {"api": "$JS.leaf.API", "deliver": ""}
    info = {"mirror": {"name": "M", "external": external, "active": 5},
            "sources": [{"name": "A", "external": external, "active": -1},
                        {"name": "B", "external": external, "active": -1,
                         "error": {"code": 404, "err_code": 10059, "description": "stream not found"}},
                        {"name": "LOCAL", "active": -1}]}
    assert not_in_contact(info) == [
        "source A via $JS.leaf.API: no contact yet (is that domain or account reachable from here?)",
        "source B via $JS.leaf.API: stream not found"]
    assert not_in_contact({"mirror": {"name": "M", "external": external, "active": -1}})[0].startswith("mirror M")


def test_force_unlock_removes_the_lock_of_the_domain_named(jsctl, hub_and_leaf):
    hub = hub_and_leaf.hub.url

    async def scenario():
        nc = await connect_nats(NatsSettings(url=hub))
        try:
            async with ApplyLock(nc, timeout_s=5, prefix="$JS.leaf.API") as held:
                in_hub = await asyncio.to_thread(jsctl, "force-unlock", held.id, "-s", hub)
                await held.ensure_held()  # the hub's bucket does not have it
                done = await asyncio.to_thread(jsctl, "force-unlock", held.id, "-s", hub, "--js-domain", "leaf")
                with pytest.raises(LockLost):
                    await held.ensure_held()
                return in_hub, done
        finally:
            await nc.close()

    in_hub, done = asyncio.run(scenario())
    assert in_hub.returncode == 1 and "no apply lock is held" in in_hub.stderr, in_hub.stderr
    assert done.returncode == 0 and "removed the apply lock" in done.stdout, done.stdout + done.stderr
