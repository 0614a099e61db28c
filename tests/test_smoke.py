"""The console entry point answers without servers: help lists every command with its description."""

from reconciler.cli import COMMANDS


def test_help_lists_every_command_with_a_description(jsctl):
    done = jsctl("--help")
    assert done.returncode == 0, done.stderr
    for name, description in COMMANDS.items():
        assert name in done.stdout
        assert description in done.stdout


def test_usage_error_is_one_line_exit_1(jsctl):
    done = jsctl("no-such-command")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr


def test_every_listed_command_is_found_in_its_module():
    import click

    from reconciler.cli import cli

    context = click.Context(cli)
    assert all(isinstance(cli.get_command(context, name), click.Command) for name in COMMANDS)
