"""The ``jsctl`` command line: a thin layer that parses options, calls the core and picks the exit code.

Subcommands are imported only when run, so ``jsctl plan`` never pays for the database or worker
modules it does not use.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from ..errors import EXIT_ERROR, JsctlError, scrub
from ..terminal import printable_text

# name -> one-line help for `jsctl --help`; the command is reconciler.cli.<name, '-' as '_'>.<same name>
COMMANDS: dict[str, str] = {
    "check": "Check the health of the declared streams and consumers.",
    "db": "Manage the Postgres schema (schema.yaml + Alembic revisions).",
    "dev": "Run a local NATS server and Postgres for development.",
    "force-unlock": "Remove an apply lock left by a process that is gone.",
    "nkey": "Generate nkeys (replaces `nk -gen`).",
    "ping": "Check the NATS and Postgres connections.",
    "publish": "Publish UserTransaction events (random or from a file).",
    "rejected": "List the worker's dead letters; replay them after a fix.",
    "thresholds": "Set, list and import the per-user thresholds.",
    "worker": "Run the validator worker.",
    "up": "Deploy: apply, then run the validator worker.",
    "validate": "Check the manifests offline; report every problem at once.",
    "plan": "Show what apply would change (text/json/markdown/prometheus).",
    "apply": "Make the live servers match the manifests, then verify.",
    "export": "Write manifests from the live JetStream account.",
    "destroy": "Delete everything this project owns (preview environments).",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (see click's docs, "Lazily loading subcommands")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = name.replace("-", "_")
        return getattr(importlib.import_module(f"{__name__}.{module}"), module)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One-line descriptions come from the table, so `jsctl --help` imports nothing.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="jsctl")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Declarative reconciler for NATS JetStream and Postgres."""
    ctx.ensure_object(dict)["debug"] = debug


def error_exit_code(command: click.Command | None) -> int:
    """The exit code of ``command``'s failures that carry none of their own (usage errors, ``--timeout``):
    1, or the command's ``error_exit_code`` (`check`: Nagios's UNKNOWN)."""
    return getattr(command, "error_exit_code", EXIT_ERROR)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every user error is one line on stderr, exit 1 (see errors.py)."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line: users add it after the subcommand too
        args = ["--debug", *(arg for arg in args if arg != "--debug")]
    try:
        code = cli.main(args=args, prog_name="jsctl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("jsctl: aborted", err=True)
        code = EXIT_ERROR
    except click.ClickException as exc:
        # Usage errors exit 1, not click's 2: 2 means "changes" for `plan --detailed-exitcode`.
        exc.show()
        code = error_exit_code(exc.ctx.command if isinstance(exc, click.UsageError) and exc.ctx else None)
    except JsctlError as exc:
        if debug:
            click.echo(printable_text(scrub(traceback.format_exc())), err=True, nl=False)
        click.echo(printable_text(scrub(f"jsctl: error: {exc}")), err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("jsctl: interrupted", err=True)
        code = 130
    except Exception as exc:  # a bug, not a user error: still one line unless --debug
        if debug:
            click.echo(printable_text(scrub(traceback.format_exc())), err=True, nl=False)
        click.echo(printable_text(scrub(f"jsctl: internal error: {type(exc).__name__}: {exc} "
                                        "(run with --debug for details)")), err=True)
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else 0)
