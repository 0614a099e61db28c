"""jsapi's request/reply against the real nats-server: answers matched to their requests, and a clear
error for a request nothing answers."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.errors import JsctlError
from reconciler.jetstream.client import JetStreamApi


def test_many_requests_in_flight_each_get_their_own_answer(run_js):
    async def scenario(api):
        names = [f"R{i}" for i in range(300)]
        await asyncio.gather(*(api.request(f"STREAM.CREATE.{n}", {"name": n, "subjects": [f"r.{n}"]}) for n in names))
        infos = await asyncio.gather(*(api.request(f"STREAM.INFO.{n}") for n in names))
        return names, [info["config"]["name"] for info in infos]

    names, answered = run_js(scenario)
    assert answered == names


def test_a_request_nothing_subscribes_to_is_one_clear_error(run_js):
    async def scenario(api):
        nowhere = JetStreamApi(api.nc, prefix="$JS.nowhere.API")
        with pytest.raises(JsctlError, match=r"^\$JS\.nowhere\.API\.INFO: no JetStream responders"):
            await nowhere.request("INFO")
        return await api.request("INFO")  # the connection still answers

    assert "api" in run_js(scenario)


def test_a_request_nobody_answers_times_out_with_one_clear_error(run_js):
    async def scenario(api):
        await api.nc.subscribe("$JS.silent.API.>")  # receives, never answers
        silent = JetStreamApi(api.nc, prefix="$JS.silent.API", timeout=0.2)
        with pytest.raises(JsctlError, match=r"^\$JS\.silent\.API\.INFO: no answer within 0s"):
            await silent.request("INFO")
        return silent.replies.waiting

    assert run_js(scenario) == {}  # nothing left behind
