"""A stream's consumer_limits on every supported version (tests/matrix/conftest.py).

- they fill a consumer's unset max_ack_pending / inactive_threshold whatever its ack policy, and
  plan, apply (its verify) and the next plan agree; where validate refuses a combination, the
  server refuses it too;
- changing them while a consumer exceeds the new limits is refused by the server: exactly then the
  plan has an error (nothing is sent), otherwise apply carries it out.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import apply_and_replan, write_manifests

from reconciler.errors import ManifestError
from reconciler.jetstream.client import ApiError, JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.session import JetStreamSession
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest import load_desired

S = 1_000_000_000
STREAM = {"name": "L", "subjects": ["l.>"]}
PUSH = {"deliver_subject": "push.l"}
FLOW_CONTROL = {"ack_policy": "flow_control", "flow_control": True, "idle_heartbeat": S}
LIMITS = {"max_ack_pending": 50, "inactive_threshold": 3600 * S}


def fill_cases():
    for ack in ("none", "explicit", "all", "flow_control"):
        for mode in ("pull", "push"):
            yield pytest.param(ack, mode, {}, id=f"{ack}-{mode}")
    # what validate's message advises a push consumer without acks: opt out of the limit
    yield pytest.param("none", "push", {"max_ack_pending": -1}, id="none-push-unlimited")
    # ack flow_control cannot opt out (validate refuses, as the server does)
    yield pytest.param("flow_control", "push", {"max_ack_pending": -1}, id="flow_control-push-unlimited")


@pytest.mark.parametrize(("ack", "mode", "extra"), list(fill_cases()))
def test_consumer_limits_fill_in_for_every_ack_policy(js_account, tmp_path, nats_server_version, ack, mode, extra):
    stream = {**STREAM, "consumer_limits": LIMITS}
    consumer = {"stream": "L", "durable_name": "C", "ack_policy": ack, **(PUSH if mode == "push" else {}),
                **(FLOW_CONTROL if ack == "flow_control" else {}), **extra}
    write_manifests(tmp_path, [stream], [consumer])
    try:
        load_desired([tmp_path])
    except ManifestError as refused:
        server_error = asyncio.run(refused_by_server(js_account, stream, consumer))
        assert server_error is not None, f"validate refused what {nats_server_version} accepts: {refused}"
        pytest.skip(f"refused by validate and by the server: {server_error}")
    assert apply_and_replan(js_account, tmp_path) == {}


async def refused_by_server(url: str, stream: dict[str, Any], consumer: dict[str, Any]) -> str | None:
    """Create ``stream`` and ``consumer`` with raw API requests: the server's refusal, or None."""
    config = {k: v for k, v in consumer.items() if k != "stream"}
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        await api.request(f"STREAM.CREATE.{stream['name']}", stream)
        try:
            await api.request(f"CONSUMER.CREATE.{stream['name']}.{config['durable_name']}",
                              {"stream_name": stream["name"], "config": config, "action": "create"})
        except ApiError as exc:
            return exc.description
        return None
    finally:
        await nc.close()


# case -> (consumer_limits before, after). The consumers: A acks (max_ack_pending 1000 or the limit),
# N does not (no max_ack_pending unless the limits give one); neither writes either field.
LIMIT_CHANGES: dict[str, tuple[dict, dict]] = {
    "lower": (LIMITS, {"max_ack_pending": 25, "inactive_threshold": 1800 * S}),
    "raise": (LIMITS, {"max_ack_pending": 100, "inactive_threshold": 7200 * S}),
    "remove": (LIMITS, {}),
    "add_below_a_consumer": ({}, {"max_ack_pending": 10}),
    "add_above_every_consumer": ({}, {"max_ack_pending": 2000}),
    "inactive_threshold_only": ({"inactive_threshold": 3600 * S}, {"inactive_threshold": 7200 * S}),
}
CONSUMERS = [{"stream": "L", "durable_name": "A", "ack_policy": "explicit"}, {"stream": "L", "durable_name": "N"}]


@pytest.mark.parametrize("case", LIMIT_CHANGES)
def test_a_limits_change_the_server_refuses_is_a_plan_error(js_account, tmp_path, case):
    before, after = LIMIT_CHANGES[case]
    write_manifests(tmp_path / "before", [{**STREAM, "consumer_limits": before}], CONSUMERS)
    assert apply_and_replan(js_account, tmp_path / "before") == {}
    write_manifests(tmp_path / "after", [{**STREAM, "consumer_limits": after}], CONSUMERS)
    errors = asyncio.run(plan_errors(js_account, tmp_path / "after"))
    if not errors:
        assert apply_and_replan(js_account, tmp_path / "after") == {}  # the consumers follow the limits
        return
    assert len(errors) == 1 and errors[0].startswith("stream/L: nats-server") and "A (" in errors[0], errors
    refusal = asyncio.run(update_limits_directly(js_account, after))
    assert refusal is not None and "violates consumers" in refusal, f"the server accepts it: {errors}"


async def plan_errors(url: str, manifests) -> list[str]:
    async with JetStreamSession(NatsSettings(url=url)) as session:
        return (await session.plan(load_desired([manifests]))).errors


async def update_limits_directly(url: str, limits: dict[str, Any]) -> str | None:
    """STREAM.UPDATE of the live stream with ``limits``: the server's refusal, or None."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        config = (await api.request(f"STREAM.INFO.{STREAM['name']}"))["config"]
        try:
            await api.request(f"STREAM.UPDATE.{STREAM['name']}", {**config, "consumer_limits": limits})
        except ApiError as exc:
            return exc.description
        return None
    finally:
        await nc.close()
