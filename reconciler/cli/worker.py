"""`jsctl worker`: the validator worker (see docs/worker.md)."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation

import click

from ..connection import DatabaseSettings, NatsSettings
from ..errors import UserError
from .options import database_options, nats_options


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


@click.command()
@nats_options
@database_options
@click.option("--stream", default="USER_TXN", show_default=True, help="Stream of the input consumer.")
@click.option("--consumer", default="GRP_MAKER", show_default=True, help="Pull consumer to read events from.")
@click.option("--verdict-subject", default="USER_TXN.validator", show_default=True,
              help="Subject the verdicts are published on.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=None,
              help="Messages per fetch [default: the consumer's max_ack_pending / --pipeline; larger is clamped].")
@click.option("--pipeline", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Batches in flight at once, each on its own database connection.")
@click.option("--default-max-amount", type=_Amount(), default="10000", show_default=True,
              help="max_amount for users without a row in user_thresholds.")
@click.option("--default-daily-limit", type=_Amount(), default="50000", show_default=True,
              help="daily_limit for users without a row in user_thresholds.")
@click.option("--until-idle", is_flag=True, help="Exit 0 once the consumer has nothing pending.")
@click.option("--progress-interval", type=click.FloatRange(0.1), default=5.0, show_default=True,
              help="Seconds between progress lines.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve Prometheus metrics on this port (/metrics).")
def worker(nats: NatsSettings, database: DatabaseSettings, stream: str, consumer: str, verdict_subject: str,
           batch: int | None, pipeline: int, default_max_amount: Decimal, default_daily_limit: Decimal,
           until_idle: bool,
           progress_interval: float, log_format: str, metrics_port: int | None) -> None:
    """Validate UserTransaction events against user thresholds, record them once, publish verdicts."""
    from ..worker.loop import WorkerSettings, run
    from ..worker.rules import Limits

    if not database.configured:
        raise UserError("the worker needs a database: give --database-url or set DATABASE_URL")
    settings = WorkerSettings(nats=nats, database=database, stream=stream, consumer=consumer,
                              verdict_subject=verdict_subject, batch=batch, pipeline=pipeline,
                              limits=Limits(default_max_amount, default_daily_limit), until_idle=until_idle,
                              progress_interval=progress_interval, log_format=log_format, metrics_port=metrics_port)
    sys.exit(run(settings))
