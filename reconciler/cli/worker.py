"""`jsctl worker`: the validator worker (see docs/worker.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

from ..errors import UserError
from ..jetstream.settings import DatabaseSettings, NatsSettings
from ..worker.verdict import DEFAULT_DAILY_LIMIT, DEFAULT_MAX_AMOUNT
from .options import PublishSubject, add_options, database_options, nats_options

if TYPE_CHECKING:
    from ..worker.loop import WorkerSettings


class _Amount(click.ParamType):
    name = "AMOUNT"

    def convert(self, value, param, ctx):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not amount.is_finite() or amount <= 0:
            self.fail(f"{value!r} must be a positive number", param, ctx)
        return amount


_WORKER_OPTIONS = [
    click.option("--stream", default="USER_TXN", show_default=True, help="Stream of the input consumer."),
    click.option("--consumer", default="GRP_MAKER", show_default=True, help="Pull consumer to read events from."),
    click.option("--verdict-subject", type=PublishSubject(), default="USER_TXN.validator", show_default=True,
                 help="Subject the verdicts are published on."),
    click.option("--batch", type=click.IntRange(1, 10_000), default=None,
                 help="Messages per fetch [default: the consumer's max_ack_pending / --pipeline; larger is clamped]."),
    click.option("--pipeline", type=click.IntRange(1, 8), default=2, show_default=True,
                 help="Batches in flight at once, staged: one in the database while the others are fetched "
                      "or publish their verdicts."),
    click.option("--default-max-amount", type=_Amount(), default=str(DEFAULT_MAX_AMOUNT), show_default=True,
                 help="max_amount for users without a row in user_thresholds."),
    click.option("--default-daily-limit", type=_Amount(), default=str(DEFAULT_DAILY_LIMIT), show_default=True,
                 help="daily_limit for users without a row in user_thresholds."),
    click.option("--until-idle", is_flag=True, help="Exit 0 once the consumer has nothing pending."),
    click.option("--progress-interval", type=click.FloatRange(0.1), default=5.0, show_default=True,
                 help="Seconds between progress lines."),
    click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True),
    click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
                 help="Serve Prometheus metrics on this port (/metrics)."),
]
_WORKER_FIELDS = ("stream", "consumer", "verdict_subject", "batch", "pipeline", "until_idle", "progress_interval",
                  "log_format", "metrics_port")
WorkerSettingsFactory = Callable[[NatsSettings, DatabaseSettings], "WorkerSettings"]


def worker_options(func: Callable) -> Callable:
    """Add the worker's flags (those of `jsctl worker`, also on `jsctl up`); the command receives
    ``worker_settings(nats, database) -> WorkerSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fields = {name: kwargs.pop(name) for name in _WORKER_FIELDS}
        max_amount, daily_limit = kwargs.pop("default_max_amount"), kwargs.pop("default_daily_limit")

        def worker_settings(nats: NatsSettings, database: DatabaseSettings) -> WorkerSettings:
            from ..worker.loop import WorkerSettings
            from ..worker.verdict import Limits

            if not database.configured:
                raise UserError("the worker needs a database: give --database-url or set DATABASE_URL")
            return WorkerSettings(nats=nats, database=database, limits=Limits(max_amount, daily_limit), **fields)

        return func(*args, worker_settings=worker_settings, **kwargs)

    return add_options(_WORKER_OPTIONS, wrapper)


@click.command()
@nats_options
@database_options
@worker_options
def worker(nats: NatsSettings, database: DatabaseSettings, worker_settings: WorkerSettingsFactory) -> int:
    """Validate UserTransaction events against user thresholds, record them once, publish verdicts."""
    from ..worker.loop import run

    return run(worker_settings(nats, database))
