"""The docs say what the code does: lists in docs/plan-apply.md and `jsctl --help` that must name everything."""

from __future__ import annotations

import re

import click
from support import REPO

from reconciler.cli import cli
from reconciler.plan.model import Action

PLAN_APPLY = (REPO / "docs" / "plan-apply.md").read_text()


def test_the_json_format_lists_every_action():
    [bullet] = re.findall(r"^- `action`:.*?(?=^- )", PLAN_APPLY, re.MULTILINE | re.DOTALL)
    assert set(re.findall(r"`(\w+)`", bullet)) - {"action"} == {action.value for action in Action}


def options(command: str) -> dict[str, list[str]]:
    """name -> its flags (`-f`, `--file`)"""
    return {param.name: param.opts for param in cli.get_command(click.Context(cli), command).params
            if isinstance(param, click.Option)}


def test_every_apply_flag_is_documented():
    """apply's own flags; the connection flags every command takes are docs/connections.md's."""
    connection = options("ping")
    for name, spellings in options("apply").items():
        if name not in connection and name != "help":
            assert any(f"`{flag}" in PLAN_APPLY for flag in spellings), f"{spellings} not in docs/plan-apply.md"


def test_jsctl_help_names_every_plan_output_format(jsctl):
    done = jsctl("--help")
    entry = re.search(r"^  plan +(.*?)\n(?=  \S)", done.stdout, re.MULTILINE | re.DOTALL)[1]
    line = " ".join(entry.split())  # as wrapped to the terminal's width
    plan = cli.get_command(click.Context(cli), "plan")
    [output] = [p for p in plan.params if p.name == "output"]
    for choice in output.type.choices:
        assert choice in line, (choice, line)
