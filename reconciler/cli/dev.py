"""`jsctl dev up | down | status | env`: local servers for development and the README's demo."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ..dev.env import DEFAULT_DIR, DEFAULT_NATS_PORT, DEFAULT_PG_PORT, DevEnvironment
from ..errors import UserError

_dir_option = click.option("--dir", "directory", type=click.Path(path_type=Path), default=DEFAULT_DIR,
                           envvar="JSCTL_DEV_DIR", show_default=True,
                           help="Where the servers keep their data and state [env JSCTL_DEV_DIR].")


@click.group()
def dev() -> None:
    """Run a local NATS server (JetStream, nkeys auth) and Postgres for development."""


@dev.command()
@_dir_option
@click.option("--hack-dir", type=click.Path(path_type=Path), default=Path("hack"), show_default=True,
              help="Directory holding nats-server.conf and seed.txt.")
@click.option("--nats-port", type=int, default=DEFAULT_NATS_PORT, show_default=True, help="0 picks a free port.")
@click.option("--pg-port", type=int, default=DEFAULT_PG_PORT, show_default=True, help="0 picks a free port.")
def up(directory: Path, hack_dir: Path, nats_port: int, pg_port: int) -> None:
    """Start both servers (idempotent) and wait until they accept connections."""
    state, started = DevEnvironment(directory, hack_dir).up(nats_port, pg_port)
    verb = "started" if started else "already running"
    click.echo(f"dev servers {verb}: NATS {state.nats_url}, Postgres 127.0.0.1:{state.pg_port}", err=True)
    click.echo("load the connection settings with: eval \"$(jsctl dev env)\"", err=True)


@dev.command()
@_dir_option
@click.option("--purge", is_flag=True, help="Also delete all data (streams, database).")
def down(directory: Path, purge: bool) -> None:
    """Stop both servers."""
    DevEnvironment(directory).down(purge=purge)
    click.echo("dev servers stopped" + (" and data deleted" if purge else ""), err=True)


@dev.command()
@_dir_option
def status(directory: Path) -> None:
    """Say what runs where."""
    environment = DevEnvironment(directory)
    state, running = environment.state(), environment.status()
    if state is None:
        click.echo("dev servers: not running (start them with `jsctl dev up`)")
        return
    for name, where in (("nats", state.nats_url), ("postgres", f"127.0.0.1:{state.pg_port}")):
        click.echo(f"{name:9} {'running' if running[name] else 'stopped':8} {where}")


@dev.command()
@_dir_option
def env(directory: Path) -> None:
    """Print `export` lines for NATS_URL, NATS_NKEY and DATABASE_URL."""
    state = DevEnvironment(directory).state()
    if state is None:
        raise UserError("dev servers are not running: start them with `jsctl dev up`")
    for name, value in state.env().items():
        click.echo(f"export {name}={shlex.quote(value)}")
