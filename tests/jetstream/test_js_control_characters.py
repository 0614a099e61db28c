"""Live names made by other clients may hold control characters (every supported nats-server accepts
ESC, BEL, DEL and NUL in stream and consumer names; only whitespace cannot travel in the API subject):
text output shows them escaped, JSON output and saved plans carry them as JSON escapes."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from support import write_manifests

from reconciler.plan.model import Action, Change, Plan
from reconciler.plan.render import render_markdown, render_text

# An OSC sequence (sets the terminal's title) and a bell: click strips colour codes from output that
# is no terminal, not these, so they reach the user raw unless jsctl escapes them.
STREAM = "T\x1b]2;owned\x07S"
CONSUMER = "C\x07\x7fX"
NUL_STREAM = "N\x00S"
STREAM_SHOWN, CONSUMER_SHOWN = "T\\x1b]2;owned\\x07S", "C\\x07\\x7fX"


def create_foreign(url: str) -> None:
    """What another client (nats-py) may create: streams and a consumer named with control characters."""

    async def run() -> None:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            await js.add_stream(name=STREAM, subjects=["foreign.>"], storage="memory")
            await js.add_consumer(STREAM, durable_name=CONSUMER, ack_policy="explicit")
            await js.add_stream(name=NUL_STREAM, subjects=["nul.>"], storage="memory")
        finally:
            await nc.close()

    asyncio.run(run())


def raw_characters(text: str) -> list[str]:
    """Characters of ``text`` a terminal would not show as themselves (line breaks aside)."""
    return [char for char in text if not char.isprintable() and char != "\n"]


@pytest.fixture
def foreign(js_account, tmp_path) -> tuple[dict[str, str], list[str]]:
    """(environment, -f arguments): the account holds the foreign resources; the manifests declare another stream."""
    create_foreign(js_account)
    return {"NATS_URL": js_account}, write_manifests(tmp_path / "m", [{"name": "MINE", "subjects": ["mine.>"]}], [])


def test_plan_text_and_markdown_show_live_names_escaped(jsctl, foreign):
    env, files = foreign
    text = jsctl("plan", *files, env=env)
    assert text.returncode == 0, text.stderr
    assert raw_characters(text.stdout) == []
    assert f"stream/{STREAM_SHOWN}  unmanaged" in text.stdout
    assert f"consumer/{STREAM_SHOWN}/{CONSUMER_SHOWN}  unmanaged" in text.stdout
    assert "stream/N\\x00S  unmanaged" in text.stdout
    markdown = jsctl("plan", *files, "-o", "markdown", env=env)
    assert markdown.returncode == 0, markdown.stderr
    assert raw_characters(markdown.stdout) == []
    assert f"`consumer/{STREAM_SHOWN}/{CONSUMER_SHOWN}`" in markdown.stdout


def test_plan_json_and_saved_plans_carry_live_names_as_json_escapes(jsctl, foreign, tmp_path):
    env, files = foreign
    result = jsctl("plan", *files, "-o", "json", "--out", str(tmp_path / "plan.json"), env=env)
    assert result.returncode == 0, result.stderr
    saved = (tmp_path / "plan.json").read_text()
    for output in (result.stdout, saved):
        assert raw_characters(output) == []  # json.dumps escapes them: \u0000, \u001b, \u0007
        assert "\\u0000" in output and "\\u001b" in output
    addresses = {c["address"] for c in json.loads(result.stdout)["changes"]}
    assert {f"stream/{STREAM}", f"consumer/{STREAM}/{CONSUMER}", f"stream/{NUL_STREAM}"} <= addresses
    assert {c["address"] for c in json.loads(saved)["plan"]["changes"]} == addresses
    applied = jsctl("apply", str(tmp_path / "plan.json"), *files, "--yes", env=env)  # the saved plan reads back
    assert applied.returncode == 0, applied.stderr


def test_error_messages_show_live_names_escaped(jsctl, js_account, tmp_path):
    env, mine = {"NATS_URL": js_account}, {"name": "MINE", "subjects": ["m.>"]}
    assert jsctl("apply", *write_manifests(tmp_path, [mine], []), "--yes", env=env).returncode == 0

    async def foreign_consumer() -> None:
        nc = await nats.connect(js_account)
        try:
            await nc.jetstream().add_consumer("MINE", durable_name=CONSUMER, ack_policy="explicit", max_ack_pending=500)
        finally:
            await nc.close()

    asyncio.run(foreign_consumer())
    # a limit that consumer exceeds: the server would refuse it, so the plan has an error naming the consumer
    files = write_manifests(tmp_path, [{**mine, "consumer_limits": {"max_ack_pending": 10}}], [])
    refused = jsctl("plan", *files, env=env)
    assert refused.returncode == 1
    assert raw_characters(refused.stdout + refused.stderr) == []
    assert f"consumers exceed it: {CONSUMER_SHOWN} (max_ack_pending 500 > 10)" in refused.stderr
    assert "error: stream/MINE: nats-server" in refused.stdout


@pytest.mark.parametrize("output", ["text", "nagios"])
def test_check_shows_live_names_escaped(jsctl, foreign, output):
    env, _ = foreign
    result = jsctl("check", "--stream", STREAM, "--consumer", f"{STREAM}/{CONSUMER}", "-o", output, env=env)
    assert result.returncode in (0, 1, 2), result.stdout + result.stderr
    assert raw_characters(result.stdout) == []
    assert f"consumer/{STREAM_SHOWN}/{CONSUMER_SHOWN}" in result.stdout


def test_text_renderers_escape_before_colouring():
    """A name's own escape sequences are escaped; the head's colour (click.style) stays a colour."""
    plan = Plan([Change("stream/A\x1b[2JB", Action.UNMANAGED, reason="left \x1b[2J alone"),
                 Change("stream/NEW", Action.CREATE, desired={"description": "d\x1b[2J"})],
                errors=["stream/A\x1b[2JB: no"])
    for rendered in (render_text(plan), render_markdown(plan)):
        assert "\x1b[2J" not in rendered
        assert "stream/A\\x1b[2JB" in rendered
    assert "\x1b[32m" in render_text(plan)  # the create's head, green
