"""The --timeout watchdog ends the process only while work runs under the deadline: parsing a command
line in-process (tests, tools reading hack/ manifests) must never arm it, and a finished run disarms it."""

from __future__ import annotations

import asyncio

import click
import pytest

from reconciler.cli import cli
from reconciler.deadline import Deadline, run


def test_parsing_timeout_arms_no_watchdog():
    command = cli.get_command(click.Context(cli), "plan")
    ctx = command.make_context("plan", ["--timeout", "1s"])
    deadline = ctx.params["timeout"]
    assert isinstance(deadline, Deadline) and deadline._watchdog is None


def test_a_finished_run_disarms_the_watchdog():
    deadline = Deadline.start(30)

    async def work() -> int:
        assert deadline._watchdog is not None and deadline._watchdog.is_alive()  # armed while it runs
        await asyncio.sleep(0)
        return 7

    assert run(work(), deadline) == 7
    assert deadline._watchdog is None


def test_a_run_that_fails_disarms_the_watchdog():
    deadline = Deadline.start(30)

    async def work() -> None:
        raise click.ClickException("boom")

    with pytest.raises(click.ClickException):
        run(work(), deadline)
    assert deadline._watchdog is None
