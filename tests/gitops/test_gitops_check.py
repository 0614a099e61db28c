"""`jsctl check` on a real server: a consumer made to lag, saturated, missing; thresholds (pure)."""

from __future__ import annotations

import asyncio
import json
import re
from fractions import Fraction

import pytest
from gitops_helpers import js_request
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import UserError
from reconciler.health.evaluate import CONSUMER_MEASURES, CRITICAL, OK, STREAM_MEASURES, WARNING, Threshold, evaluate
from reconciler.health.render import render_nagios
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

STREAM = {"name": "USER_TXN", "subjects": ["USER_TXN.*"], "max_msgs": 100}
MAKER = {"durable_name": "GRP_MAKER", "filter_subject": "USER_TXN.maker", "ack_policy": "explicit",
         "max_ack_pending": 10, "metadata": {"io.nats.monitor.unprocessed-warn": "30"}}
VALIDATOR = {"durable_name": "GRP_VALIDATOR", "filter_subject": "USER_TXN.validator", "ack_policy": "explicit"}
TARGETS = ["--stream", "USER_TXN", "--consumer", "USER_TXN/GRP_MAKER", "--consumer", "USER_TXN/GRP_VALIDATOR"]


async def setup(url: str, messages: int, fetch_without_ack: int = 0) -> None:
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        await api.request("STREAM.CREATE.USER_TXN", STREAM)
        for consumer in (MAKER, VALIDATOR):
            await api.request(f"CONSUMER.CREATE.USER_TXN.{consumer['durable_name']}",
                              {"stream_name": "USER_TXN", "config": consumer})
        js = nc.jetstream()
        for i in range(messages):
            await js.publish("USER_TXN.maker", f"{i}".encode())
        if fetch_without_ack:
            sub = await js.pull_subscribe_bind("GRP_MAKER", stream="USER_TXN")
            await sub.fetch(fetch_without_ack, timeout=5)
    finally:
        await nc.close()


def test_lagging_consumer_is_reported(js_account, jsctl, tmp_path):
    asyncio.run(setup(js_account, 40))
    # GRP_MAKER: 40 unprocessed >= its metadata warn threshold 30; GRP_VALIDATOR and the stream are fine.
    # (In an empty directory: no manifests, so the named resources are checked for health only.)
    run = jsctl("check", *TARGETS, "--server", js_account, cwd=tmp_path)
    assert run.returncode == WARNING, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("OK") and "stream/USER_TXN" in lines[0] and "messages 40 / 100" in lines[0]
    assert "WARNING  consumer/USER_TXN/GRP_MAKER" in run.stdout and "unprocessed 40 >= warning 30" in run.stdout
    assert lines[-1] == "WARNING: 3 resources checked (2 ok, 1 warning)"

    # A flag beats the metadata; the JSON names every value.
    run = jsctl("check", *TARGETS, "--server", js_account, "--unprocessed-critical", "35", "-o", "json", cwd=tmp_path)
    assert run.returncode == CRITICAL
    report = json.loads(run.stdout)
    maker = next(c for c in report["checks"] if c["address"] == "consumer/USER_TXN/GRP_MAKER")
    assert report["status"] == "CRITICAL" and maker["values"]["unprocessed"]["value"] == 40
    assert maker["values"]["unprocessed"] == {"value": 40, "warn": 30, "critical": 35, "max": None}


def test_saturated_usage_and_missing_in_nagios_format(js_account, jsctl, tmp_path):
    asyncio.run(setup(js_account, 85, fetch_without_ack=10))
    run = jsctl("check", *TARGETS, "--consumer", "USER_TXN/GONE", "--server", js_account, "-o", "nagios",
                "--unprocessed-warn", "0", cwd=tmp_path)
    assert run.returncode == CRITICAL, run.stdout + run.stderr
    line = run.stdout.strip()
    assert len(run.stdout.splitlines()) == 1 and line.startswith("JSCTL CRITICAL - ")
    text, perf = line.split(" | ")
    assert "consumer/USER_TXN/GONE: does not exist" in text
    assert "consumer/USER_TXN/GRP_MAKER: ack pending 10 of 10 >= critical 100%" in text
    assert "stream/USER_TXN: messages 85 of 100 >= warning 80%" in text
    assert "'consumer/USER_TXN/GRP_MAKER ack pending'=10;8;10;0;10" in perf


def test_declared_set_from_manifests_lag_and_drift(js_account, jsctl, project):
    assert jsctl("apply", "--yes", "--server", js_account, cwd=project).returncode == 0
    healthy = jsctl("check", "--server", js_account, cwd=project)
    assert healthy.returncode == OK, healthy.stdout
    assert healthy.stdout.splitlines()[-1] == "OK: 3 resources checked (3 ok)"

    async def publish(n):
        nc = await connect_nats(NatsSettings(url=js_account))
        try:
            for i in range(n):
                await nc.jetstream().publish("USER_TXN.maker", b"%d" % i)
        finally:
            await nc.close()

    asyncio.run(publish(25))  # nobody consumes: GRP_MAKER lags
    live = js_request(js_account, "STREAM.INFO.USER_TXN")["config"]
    js_request(js_account, "STREAM.UPDATE.USER_TXN", {**live, "max_msgs": 1_000_000, "max_bytes": 1 << 30})  # by hand
    run = jsctl("check", "--server", js_account, "--unprocessed-critical", "20", cwd=project)
    assert run.returncode == CRITICAL, run.stdout
    lines = {line.split()[1]: line.split(None, 2) for line in run.stdout.splitlines()[:-1]}
    # Each line says what is wrong, then the values no message names: drift hides no health value.
    assert lines["consumer/USER_TXN/GRP_MAKER"][0::2] == [
        "CRITICAL", "unprocessed 25 >= critical 20; ack pending 0 / 100, redelivered 0"]
    state, summary = lines["stream/USER_TXN"][0::2]
    assert state == "WARNING" and re.fullmatch(
        r"differs from the manifest \(max_bytes, max_msgs\); messages 25 / 1000000, bytes \d+ B / 1 GiB", summary)


def test_values_are_integers_bytes_with_units(js_account, jsctl, tmp_path):
    """Large limits read as written (1 GiB), never in scientific notation; perfdata bytes carry ``B``."""
    asyncio.run(setup(js_account, 40))
    live = js_request(js_account, "STREAM.INFO.USER_TXN")["config"]
    js_request(js_account, "STREAM.UPDATE.USER_TXN", {**live, "max_msgs": 100_000_000, "max_bytes": 1 << 30})
    stored = js_request(js_account, "STREAM.INFO.USER_TXN")["state"]["bytes"]
    text = jsctl("check", "--stream", "USER_TXN", "--server", js_account, cwd=tmp_path)
    assert text.returncode == OK, text.stdout + text.stderr
    assert f"messages 40 / 100000000, bytes {stored} B / 1 GiB" in text.stdout
    nagios = jsctl("check", "--stream", "USER_TXN", "--server", js_account, "-o", "nagios", "--usage-warn", "0.0001%",
                   cwd=tmp_path)
    assert nagios.returncode == WARNING, nagios.stdout
    assert f"stream/USER_TXN: bytes {stored} B of 1 GiB >= warning 0.0001%" in nagios.stdout
    # 0.0001% of 1 GiB is 1073.74 bytes: reached at 1074; 95% of it at 1020054733.
    assert f"'stream/USER_TXN bytes'={stored}B;1074;1020054733;0;1073741824" in nagios.stdout
    assert "'stream/USER_TXN messages'=40;100;95000000;0;100000000" in nagios.stdout
    assert "e+" not in nagios.stdout and "e-" not in nagios.stdout
    values = json.loads(jsctl("check", "--stream", "USER_TXN", "--server", js_account, "-o", "json",
                              cwd=tmp_path).stdout)["checks"][0]["values"]
    assert values["bytes"] == {"value": stored, "warn": 858993460, "critical": 1020054733, "max": 1 << 30}


def test_unreachable_server_is_unknown(jsctl, tmp_path):
    run = jsctl("check", "--stream", "X", "--server", "nats://127.0.0.1:1", "-o", "nagios", cwd=tmp_path)
    assert run.returncode == 3 and run.stdout.startswith("JSCTL UNKNOWN - cannot connect to NATS")
    run = jsctl("check", "--server", "nats://127.0.0.1:1", cwd=tmp_path)
    assert run.returncode == 3 and "nothing to check" in run.stdout


def test_threshold_rules():
    assert Threshold.parse("80%", "x") == Threshold(80, True) and Threshold.parse("0", "x") is None
    assert Threshold(50, True).limit(None) is None and Threshold(50, True).limit(10) == 5
    with pytest.raises(UserError, match="not a number"):
        Threshold.parse("lots", "--x")
    with pytest.raises(UserError, match="too small"):  # exactly, its limit and digits would never end
        Threshold.parse("1e-99999999%", "--x")
    with pytest.raises(UserError, match="percentages"):
        evaluate("stream/S", {"config": {}, "state": {}}, STREAM_MEASURES, {"usage-warn": "10"})
    unlimited = evaluate("consumer/S/C", {"config": {"max_ack_pending": -1}, "num_ack_pending": 5000},
                         CONSUMER_MEASURES, {})
    assert unlimited.state == OK
    assert "JSCTL OK - 1 resources OK" in render_nagios([unlimited])


@given(st.one_of(st.text(), st.from_regex(r"\A\s*-?[0-9]{0,400}(\.[0-9]{0,400})?([eE][-+]?[0-9]{1,4})?\s*%?\s*\Z")),
       st.one_of(st.none(), st.integers(min_value=-(1 << 64), max_value=1 << 64)))
def test_any_threshold_text_is_a_threshold_or_one_located_error(text, maximum):
    try:
        threshold = Threshold.parse(text, "--usage-warn")
    except UserError as exc:
        assert str(exc).startswith("--usage-warn: threshold ")
        return
    if threshold is None:
        return
    assert "e" not in str(threshold).lower()
    at = threshold.limit(maximum)
    if at is None:
        assert threshold.percent and not (maximum and maximum > 0)
        return
    # The count at which it is reached: the smallest whole number at or above the threshold.
    amount = Fraction(threshold.amount)
    exact = amount * maximum / 100 if threshold.percent else amount
    assert isinstance(at, int) and at - 1 < exact <= at
