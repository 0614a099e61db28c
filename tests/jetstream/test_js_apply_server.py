"""Plan and apply against the real nats-server: convergence, ordering, failures, verification."""

from __future__ import annotations

import asyncio

import pytest
from js_fixtures import VARIED_CONSUMERS, VARIED_STREAMS, S, desired_of

from reconciler.jetstream import normalize as normalize_module
from reconciler.jetstream.execute import FAILED, NOT_DONE, ApplyFailed, execute
from reconciler.jetstream.normalize import NormalizeCache
from reconciler.jetstream.observe import observe
from reconciler.jetstream.ownership import MANAGED_KEY, Ownership
from reconciler.jetstream.plan import plan_jetstream
from reconciler.jetstream.verify import Verifier, VerifyFailed, verify

WRITES = ("CREATE", "UPDATE", "DELETE")


def record_subjects(api) -> list[str]:
    """Every $JS.API subject the client sends from now on."""
    sent: list[str] = []
    original = api.request

    async def request(subject, payload=None, timeout=None):
        sent.append(subject)
        return await original(subject, payload, timeout)

    api.request = request
    return sent


PROJECT = Ownership("app")  # the project applying: --prune deletes what it created


async def plan_of(api, desired, prune=False):
    return plan_jetstream(desired, await observe(api), prune=prune, ownership=PROJECT)


async def apply_all(api, desired, prune=False):
    """As `jsctl apply` does it: one normalize cache for the plan and the verify, replies normalized as they arrive."""
    live = await observe(api)
    cache = NormalizeCache()
    plan = plan_jetstream(desired, live, prune=prune, ownership=PROJECT, normalized=cache)
    steps = await execute(api, plan.pending, accepted=Verifier(desired, live, cache).accepted)
    verify(desired, live, steps, prune=prune, ownership=PROJECT, normalized=cache)
    assert not (await plan_of(api, desired, prune)).pending  # re-observing agrees with the replies
    return plan


def test_varied_account_converges_and_reapplying_writes_nothing(run_js, varied):
    async def scenario(api):
        first = await apply_all(api, varied)
        assert {c.action for c in first.changes} == {"create"} and not first.errors
        sent = record_subjects(api)
        again = await plan_of(api, varied)
        await execute(api, again.pending)
        return again, sent

    again, sent = run_js(scenario)
    assert again.changes == []  # every omitted default, zero spelling and set order compares equal
    assert sent and not [s for s in sent if any(w in s for w in WRITES)]


def test_apply_orders_origins_before_mirrors_and_consumers_before_their_stream_deletes(run_js):
    desired = desired_of([s for s in VARIED_STREAMS if s["name"] in ("ORDERS", "MIRROR", "AGG", "INTEREST")],
                         [c for c in VARIED_CONSUMERS if c["stream"] == "ORDERS"])

    async def scenario(api):
        sent = record_subjects(api)
        await apply_all(api, desired)
        creates = [s.rsplit(".", 1)[-1] for s in sent if s.startswith("STREAM.CREATE")]
        assert creates.index("MIRROR") > creates.index("ORDERS") and creates.index("AGG") > creates.index("INTEREST")
        sent.clear()
        await apply_all(api, desired_of(), prune=True)  # everything is jsctl's: --prune deletes it all
        deletes = [s.split(".") for s in sent if ".DELETE." in s]  # [KIND, DELETE, STREAM, (CONSUMER)]
        for index, (kind, _, stream, *_) in enumerate(deletes):
            if kind == "STREAM":  # each stream goes after its own consumers
                assert all(i < index for i, d in enumerate(deletes) if d[0] == "CONSUMER" and d[2] == stream)
        assert sum(d[0] == "CONSUMER" for d in deletes) == 5
        return await observe(api)

    assert run_js(scenario).streams == {}


def test_failed_request_stops_with_a_report_and_the_next_plan_is_the_rest(run_js):
    desired = desired_of([{"name": "GOOD", "subjects": ["good.>"]}, {"name": "CLASH", "subjects": ["taken.>"]}],
                         [{"stream": "CLASH", "durable_name": "C1", "ack_policy": "explicit"}])

    async def scenario(api):
        await api.request("STREAM.CREATE.OTHER", {"name": "OTHER", "subjects": ["taken.>"]})  # not jsctl's
        plan = await plan_of(api, desired)
        with pytest.raises(ApplyFailed) as failed:
            await execute(api, plan.pending)
        status = {s.address: s.status for s in failed.value.steps}
        assert status == {"stream/GOOD": "done", "stream/CLASH": FAILED, "consumer/CLASH/C1": NOT_DONE}
        assert "create stream/CLASH" in str(failed.value) and "not done" in failed.value.report()
        rest = await plan_of(api, desired)
        assert [(c.address, c.action) for c in rest.pending] == [("stream/CLASH", "create"),
                                                                 ("consumer/CLASH/C1", "create")]
        assert ("stream/OTHER", "unmanaged") in [(c.address, c.action) for c in rest.changes]

    run_js(scenario)


def test_verify_names_a_field_the_server_silently_changed(run_js):
    # The server replaces ack_wait with the first backoff step without saying so.
    desired = desired_of([{"name": "V", "subjects": ["v.>"]}],
                         [{"stream": "V", "durable_name": "C", "ack_policy": "explicit", "ack_wait": 5 * S,
                           "backoff": [S, 2 * S]}])

    async def scenario(api):
        with pytest.raises(VerifyFailed, match=r"consumer/V/C: the server did not keep ack_wait \(sent 5000000000"):
            await apply_all(api, desired)

    run_js(scenario)


def test_replace_recreates_the_stream_and_its_consumers(run_js):
    before = desired_of([{"name": "R", "subjects": ["r.>"]}], [{"stream": "R", "durable_name": "C",
                                                               "ack_policy": "explicit"}])
    after = desired_of([{"name": "R", "subjects": ["r.>"], "storage": "memory"}],
                       [{"stream": "R", "durable_name": "C", "ack_policy": "explicit"}])

    async def scenario(api):
        await apply_all(api, before)
        await api.nc.request("r.x", b"1")  # answered once the stream stored it
        plan = await apply_all(api, after)
        (replace,) = [c for c in plan.changes if c.action == "replace"]
        return replace, await observe(api)

    replace, live = run_js(scenario)
    assert replace.details.destroys["consumers"] == ["C"] and replace.details.destroys["messages"] == 1
    assert live.streams["R"]["config"]["storage"] == "memory" and ("R", "C") in live.consumers


def test_observe_lists_many_streams_across_pages(run_js):
    async def scenario(api):
        await asyncio.gather(*(api.request(f"STREAM.CREATE.P{i}", {"name": f"P{i}", "subjects": [f"p{i}"]})
                               for i in range(300)))
        await api.request("CONSUMER.CREATE.P7.C", {"stream_name": "P7", "config": {"durable_name": "C"}})
        return await observe(api)

    live = run_js(scenario)
    assert len(live.streams) == 300 and list(live.consumers) == [("P7", "C")]


def test_pause_until_changes_through_the_pause_request(run_js):
    declared = {"stream": "P", "durable_name": "C", "ack_policy": "explicit"}
    streams = [{"name": "P", "subjects": ["p.>"]}]

    async def scenario(api):
        await apply_all(api, desired_of(streams, [declared]))
        paused = desired_of(streams, [{**declared, "pause_until": "2099-01-01T00:00:00Z"}])
        plan = await apply_all(api, paused)
        assert [(c.action, [d.path for d in c.diff]) for c in plan.pending] == [("update", ["pause_until"])]
        await apply_all(api, desired_of(streams, [declared]))  # resumes
        return await observe(api)

    assert "pause_until" not in run_js(scenario).consumers[("P", "C")]["config"]


def test_a_stream_declared_sealed_is_created_then_sealed(run_js):
    desired = desired_of([{"name": "ARCHIVE", "subjects": ["archive.>"], "sealed": True}],
                         [{"stream": "ARCHIVE", "durable_name": "READER", "ack_policy": "explicit"}])

    async def scenario(api):
        await apply_all(api, desired)
        return await observe(api)

    live = run_js(scenario)
    assert live.streams["ARCHIVE"]["config"]["sealed"] is True and ("ARCHIVE", "READER") in live.consumers


def unmarked(config: dict) -> dict:
    return {**config, "metadata": {k: v for k, v in config.get("metadata", {}).items() if k != MANAGED_KEY}}


@pytest.mark.parametrize("existing", ["none", "same configs, not jsctl's"])
def test_verify_after_apply_finds_every_config_normalized_already(run_js, varied, monkeypatch, existing):
    """The verify plans everything again, but normalizes nothing again: the desired configs were
    normalized by the plan or as their replies arrived, the replies as they arrived."""
    async def scenario(api):
        if existing != "none":  # an adopt of each: created by someone else, identical to the manifests
            await execute(api, plan_jetstream(varied, await observe(api)).pending)
            made = await observe(api)
            for (stream, name), item in made.consumers.items():
                await api.request(f"CONSUMER.CREATE.{stream}.{name}",
                                  {"stream_name": stream, "config": unmarked(item["config"]), "action": "update"})
            for name, item in made.streams.items():
                await api.request(f"STREAM.UPDATE.{name}", unmarked(item["config"]))
        live = await observe(api)
        cache = NormalizeCache()
        plan = plan_jetstream(varied, live, normalized=cache)
        steps = await execute(api, plan.pending, accepted=Verifier(varied, live, cache).accepted)
        again, real = [], normalize_module.normalize
        monkeypatch.setattr(normalize_module, "normalize", lambda *args: again.append(args[1]) or real(*args))
        verify(varied, live, steps, normalized=cache)
        return {c.action for c in plan.pending}, again

    actions, normalized_again = run_js(scenario)
    assert actions == ({"create"} if existing == "none" else {"adopt"})
    assert normalized_again == []


def test_observing_a_stream_reads_its_mirrors_local_origin_only(run_js):
    """A mirror's origin is read with it (its defaults depend on it), never a local namesake of an
    external origin: that is another domain's or account's stream (defaults.local_origin)."""
    async def scenario(api):
        for name in ("EDGE", "ORIGIN"):
            await api.request(f"STREAM.CREATE.{name}", {"name": name, "subjects": [f"{name.lower()}.>"]})
        await api.request("STREAM.CREATE.AWAY", {"name": "AWAY", "mirror": {
            "name": "EDGE", "external": {"api": "$JS.nowhere.API"}}})
        await api.request("STREAM.CREATE.HERE", {"name": "HERE", "mirror": {"name": "ORIGIN"}})
        return await observe(api, ["AWAY", "HERE"])

    assert set(run_js(scenario).streams) == {"AWAY", "HERE", "ORIGIN"}
