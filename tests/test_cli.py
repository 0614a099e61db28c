"""The command line itself: help, usage errors, --debug, and `jsctl nkey gen`."""

from __future__ import annotations

import click
import nkeys
import pytest
from expect import one_line_error

from reconciler.cli import COMMANDS, cli
from reconciler.jetstream.credentials import seed_role


def test_every_subcommand_has_a_one_line_description():
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        subcommands = command.commands.values() if isinstance(command, click.Group) else []
        for sub in subcommands:
            assert sub.get_short_help_str(limit=80).strip(), f"{name} {sub.name} has no description"


def test_group_help_lists_its_subcommands(jsctl):
    done = jsctl("dev", "--help")
    assert done.returncode == 0
    for sub in ("up", "down", "status", "env"):
        assert f"  {sub} " in done.stdout


def test_connecting_commands_document_flags_and_environment(jsctl):
    done = jsctl("ping", "--help")
    for flag, env in [("--server", "NATS_URL"), ("--nkey", "NATS_NKEY"), ("--creds", "NATS_CREDS"),
                      ("--user", "NATS_USER"), ("--password", "NATS_PASSWORD"), ("--token", "NATS_TOKEN"),
                      ("--tls-ca", "NATS_CA"), ("--tls-cert", "NATS_CERT"), ("--tls-key", "NATS_KEY"),
                      ("--context", "NATS_CONTEXT"), ("--database-url", "DATABASE_URL")]:
        assert flag in done.stdout and env in done.stdout, flag


def every_command() -> list[click.Command]:
    ctx = click.Context(cli)
    found, groups = [], [cli]
    while groups:
        group = groups.pop()
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            (groups if isinstance(command, click.Group) else found).append(command)
    return found


def test_every_command_with_a_connection_setting_takes_the_environment_and_nats_ones_the_domain():
    """A setting an environment of jsctl.yaml can set (docs/environments.md) is read from it on every command:
    --env/JSCTL_ENV and --project there; a NATS connection manages a JetStream domain (--js-domain)."""
    connecting = 0
    for command in every_command():
        params = {param.name for param in command.params}
        help_text = command.get_help(click.Context(command, info_name=command.name))
        if params & {"url", "database_url", "migrations_dir"}:
            connecting += 1
            assert {"env_name", "project_file"} <= params, command.name
            assert "--env NAME" in help_text and "JSCTL_ENV" in help_text and "--project FILE" in help_text
        if "url" in params:
            assert "--js-domain DOMAIN" in help_text and "JSCTL_JS_DOMAIN" in help_text, command.name
    assert connecting == 18


@pytest.mark.parametrize("args", [["ping", "--no-such-flag"], ["nkey", "gen", "--type", "server"], ["dev", "sideways"]])
def test_usage_errors_exit_1_without_traceback(jsctl, args):
    done = jsctl(*args)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Error:" in done.stderr


@pytest.mark.parametrize("position", ["before", "after"])
def test_debug_adds_the_traceback_to_a_user_error(jsctl, tmp_path, position):
    missing = str(tmp_path / "missing-seed")
    args = ["--debug", "ping", "--nkey", missing] if position == "before" else ["ping", "--nkey", missing, "--debug"]
    done = jsctl(*args)
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("jsctl: error: nkey seed file")
    one_line_error(jsctl("ping", "--nkey", missing), "nkey seed file", missing)


@pytest.mark.parametrize(("role", "letter"), [("user", "U"), ("account", "A"), ("operator", "O")])
def test_nkey_gen(jsctl, tmp_path, role, letter):
    done = jsctl("nkey", "gen", "--type", role)
    assert done.returncode == 0, done.stderr
    seed, public = done.stdout.split()
    assert seed.startswith("S" + letter) and public.startswith(letter)
    assert seed_role(seed) == role  # checksum and length verified
    assert nkeys.from_seed(seed.encode()).public_key.decode() == public
    assert jsctl("nkey", "gen", "--type", role).stdout.split()[0] != seed


def test_nkey_gen_defaults_to_a_user(jsctl):
    assert jsctl("nkey", "gen").stdout.startswith("SU")
