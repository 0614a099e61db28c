"""`jsctl db`: the Postgres schema (migrations/schema.yaml + Alembic revisions).

`db plan` and `db upgrade` are the database half of `jsctl plan`/`jsctl apply` on their own: the
same core (reconciler/reconcile) with no NATS connection and no JetStream manifests.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import (
    DEV_URL_OPTION,
    MIGRATIONS_OPTION,
    apply_options,
    chosen_environment,
    database_target_options,
    detailed_exitcode_option,
    environment_options,
    migrations_of,
    no_database,
    output_option,
    timeout_option,
)
from .run import run_apply, show_plan

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..plan.policy import ApplyOptions
    from ..reconcile.target import DatabaseTarget, Target


@click.group()
def db() -> None:
    """Manage the Postgres schema: schema.yaml + Alembic revisions."""


def _database_only(database: DatabaseTarget | None) -> Target:
    from ..reconcile.target import Target

    if database is None:
        raise no_database()
    return Target(nats=None, database=database)


@db.command()
@click.option("-m", "--message", required=True, help="What the revision changes.")
@MIGRATIONS_OPTION
@DEV_URL_OPTION
@timeout_option
@environment_options
def revision(message: str, migrations_dir: Path, dev_url: str | None, timeout: Deadline | None) -> None:
    """Write a revision for the difference between the migrations at head and schema.yaml."""
    import asyncio

    from ..db.new_revision import make_revision
    from ..deadline import run

    migrations_dir = migrations_of(chosen_environment())  # the environment's, unless --migrations is given
    path = run(asyncio.to_thread(make_revision, migrations_dir, message, dev_url), timeout)
    if path is None:
        click.echo("schema.yaml matches the migrations at head: no revision written")
    else:
        click.echo(f"wrote {path}")


@db.command(name="plan")
@output_option
@detailed_exitcode_option
@timeout_option
@environment_options
@database_target_options
def plan_command(output: str, detailed_exitcode: bool, timeout: Deadline | None,
                 database: DatabaseTarget | None) -> int:
    """Show pending revisions (SQL, risk flags), drift, and whether revisions cover schema.yaml."""
    return show_plan(_database_only(database), output, detailed_exitcode, deadline=timeout)


@db.command()
@apply_options
@timeout_option
@environment_options
@database_target_options
def upgrade(options: ApplyOptions, timeout: Deadline | None, database: DatabaseTarget | None) -> None:
    """Plan, then upgrade the database to head under a lock and verify it matches schema.yaml.

    No confirmation is asked (as `alembic upgrade`); `jsctl apply` asks.
    """
    run_apply(_database_only(database), options, assume_yes=True, deadline=timeout)
