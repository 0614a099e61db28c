"""`jsctl thresholds`: the per-user limits the worker checks events against (see docs/worker.md)."""

from __future__ import annotations

from pathlib import Path

import click

from ..db.settings import DatabaseSettings
from ..deadline import Deadline, run
from ..errors import UserError
from .options import environment_options, list_output_option, required_database_options, timeout_option


@click.group()
def thresholds() -> None:
    """Per-user thresholds (the user_thresholds table): set, list, import a CSV file."""


@thresholds.command(name="set")
@click.argument("user")
@click.option("--max-amount", metavar="AMOUNT", help="Largest single transaction (a decimal, e.g. 1000.50).")
@click.option("--daily-limit", metavar="AMOUNT", help="Sum of approved amounts per UTC day.")
@timeout_option
@environment_options
@required_database_options
def set_command(user: str, max_amount: str | None, daily_limit: str | None, timeout: Deadline | None,
                database: DatabaseSettings) -> None:
    """Set USER's limits (a user without a row needs both; users without one get the worker's defaults)."""
    from ..worker import thresholds as core
    from ..worker.events import amount_text
    from ..worker.store import session

    if max_amount is None and daily_limit is None:
        raise UserError("give --max-amount, --daily-limit or both")
    user, max_value, daily_value = core.checked(user, max_amount, daily_limit)

    async def work() -> core.Threshold:
        async with session(database) as conn:
            return await core.set_one(conn, user, max_value, daily_value)

    stored = run(work(), timeout)
    click.echo(f"{stored.user_id}: max_amount {amount_text(stored.max_amount)}, "
               f"daily_limit {amount_text(stored.daily_limit)}")


@thresholds.command(name="list")
@click.argument("users", nargs=-1, metavar="[USER]...")
@list_output_option
@timeout_option
@environment_options
@required_database_options
def list_command(users: tuple[str, ...], output: str, timeout: Deadline | None, database: DatabaseSettings) -> None:
    """Show the thresholds of every user with a row (or of the USERs named), by user id."""
    from ..worker import thresholds as core
    from ..worker.store import session

    async def work() -> list[core.Stored]:
        async with session(database) as conn:
            return await core.stored(conn, users)

    rows = run(work(), timeout)
    click.echo((core.render_json if output == "json" else core.render_text)(rows), nl=False)


@thresholds.command(name="import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@timeout_option
@environment_options
@required_database_options
def import_command(path: Path, timeout: Deadline | None, database: DatabaseSettings) -> None:
    """Insert or replace the thresholds in FILE.csv (header row: user_id,max_amount,daily_limit).

    Every row is checked first: one bad row refuses the whole file (each problem as file:line: message);
    then all rows are written in one transaction.
    """
    from ..worker import thresholds as core
    from ..worker.store import session

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    rows = core.parse_csv(data, str(path))

    async def work() -> tuple[int, int]:
        async with session(database) as conn:
            return await core.upsert(conn, rows)

    inserted, updated = run(work(), timeout)
    click.echo(f"imported {len(rows)} thresholds from {path}: {inserted} new, {updated} updated")
