"""`jsctl db`: the Postgres schema (migrations/schema.yaml + Alembic revisions).

`db plan` and `db upgrade` expose the database half of `jsctl plan`/`jsctl apply` on their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..connection import DatabaseSettings
from ..errors import EXIT_CHANGES, EXIT_ERROR, UserError
from ..plan import Plan
from .options import database_options

_MIGRATIONS = click.option("--migrations", "migrations_dir", type=click.Path(file_okay=False, path_type=Path),
                           default=Path("migrations"), show_default=True,
                           help="The Alembic migrations directory holding schema.yaml.")
_DEV_URL = click.option("--dev-url", envvar="JSCTL_DEV_DATABASE_URL", metavar="URL",
                        help="Postgres server for scratch databases (needs CREATEDB) [env JSCTL_DEV_DATABASE_URL; "
                             "default: a throwaway embedded Postgres].")
_ADOPT = click.option("--adopt", is_flag=True,
                      help="Stamp a database that has the schema but no Alembic history at head.")


@click.group()
def db() -> None:
    """Manage the Postgres schema: schema.yaml + Alembic revisions."""


def _require(database: DatabaseSettings) -> None:
    if not database.configured:
        raise UserError("no database configured: pass --database-url or set DATABASE_URL")


@db.command()
@click.option("-m", "--message", required=True, help="What the revision changes.")
@_MIGRATIONS
@_DEV_URL
def revision(message: str, migrations_dir: Path, dev_url: str | None) -> None:
    """Write a revision for the difference between the migrations at head and schema.yaml."""
    from ..db.revision import make_revision

    path = make_revision(migrations_dir, message, dev_url)
    if path is None:
        click.echo("schema.yaml matches the migrations at head: no revision written")
    else:
        click.echo(f"wrote {path}")


@db.command(name="plan")
@database_options
@_MIGRATIONS
@_DEV_URL
@_ADOPT
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are pending revisions or drift.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def plan_command(ctx: click.Context, database: DatabaseSettings, migrations_dir: Path, dev_url: str | None,
                 adopt: bool, detailed_exitcode: bool, output_format: str) -> None:
    """Show pending revisions (SQL, risk flags), drift, and whether revisions cover schema.yaml."""
    plan = _planned(ctx, database, migrations_dir, dev_url, adopt, output_format)
    if detailed_exitcode and plan.has_changes:
        ctx.exit(EXIT_CHANGES)


def _planned(ctx: click.Context, database: DatabaseSettings, migrations_dir: Path, dev_url: str | None,
             adopt: bool, output_format: str = "text") -> Plan:
    """Plan and print it; a plan with errors prints them and exits 1."""
    from ..db import plan_database
    from ..db.render import render_text

    _require(database)
    plan = plan_database(database, migrations_dir, dev_url=dev_url, adopt=adopt)
    click.echo(json.dumps(plan.to_dict(), indent=2, default=str) if output_format == "json" else render_text(plan))
    for error in plan.errors:
        click.echo(f"jsctl: error: {error}", err=True)
    if plan.errors:
        ctx.exit(EXIT_ERROR)
    return plan


@db.command()
@database_options
@_MIGRATIONS
@_DEV_URL
@_ADOPT
@click.option("--allow-destructive", is_flag=True, help="Allow revisions that drop tables, columns, indexes or "
                                                        "constraints.")
@click.option("--lock-timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another apply holding the lock.")
@click.option("--ddl-lock-timeout", type=float, default=10.0, show_default=True, metavar="SECONDS",
              help="lock_timeout for each DDL statement.")
@click.option("--statement-timeout", type=float, default=900.0, show_default=True, metavar="SECONDS",
              help="statement_timeout for each statement (0: none).")
@click.pass_context
def upgrade(ctx: click.Context, database: DatabaseSettings, migrations_dir: Path, dev_url: str | None, adopt: bool,
            allow_destructive: bool, lock_timeout: float, ddl_lock_timeout: float,
            statement_timeout: float) -> None:
    """Plan, then upgrade the database to head under a lock and verify it matches schema.yaml."""
    from ..db import ApplySettings, apply_database

    plan = _planned(ctx, database, migrations_dir, dev_url, adopt)
    settings = ApplySettings(allow_destructive, lock_timeout, ddl_lock_timeout, statement_timeout)
    done = apply_database(database, migrations_dir, plan, settings, progress=click.echo)
    click.echo(f"Database: {len(done)} step(s) applied; the database matches schema.yaml")
