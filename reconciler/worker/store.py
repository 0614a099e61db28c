"""Postgres side of the worker: one round trip per batch (``jsctl_record_batch``), plus rejected messages.

The function (created by the worker's Alembic revision) locks the batch's users in a fixed order,
skips transaction ids already recorded, decides the new ones against the thresholds and the running
daily totals, inserts them and updates the totals — all in the one implicit transaction of a single
statement, so a batch is recorded entirely or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from ..db.settings import DatabaseSettings, database_error, describe_database_error
from ..errors import ConnectionFailed, UserError, redact
from .events import Event
from .verdict import Limits

if TYPE_CHECKING:
    import asyncpg

NEW, DUPLICATE, CONFLICT = "new", "duplicate", "conflict"
CONFLICTING_DUPLICATE = "conflicting_duplicate"

RECORD_BATCH = "SELECT * FROM jsctl_record_batch($1, $2, $3, $4, $5, $6, $7, $8, $9)"

INSERT_REJECTED = """
INSERT INTO rejected_messages (stream, stream_sequence, subject, raw, raw_size, raw_digest, reason, detail,
                               transaction_id, msg_id)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::bigint[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[])
ON CONFLICT (stream, stream_sequence, reason) DO NOTHING
"""
# A dead letter can be as big as the server's max_payload (1 MiB by default): rejected_messages keeps
# its first 64 KiB (a real event is ~100 bytes) with the whole payload's size and sha256.
RAW_KEPT = 64 * 1024


async def connect(database: DatabaseSettings, timeout: float = 10) -> asyncpg.Connection:
    """An asyncpg connection; an unreachable or refusing Postgres is one ``ConnectionFailed`` line."""
    import asyncpg

    try:
        return await asyncpg.connect(database.libpq_url(), timeout=timeout)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        raise database_error(database, exc) from None


def missing_schema(database: DatabaseSettings, exc: BaseException) -> UserError:
    return UserError(f"the database at {database.display_url} lacks the worker's schema "
                     f"({str(exc).splitlines()[0]}): run `jsctl apply` with this jsctl's migrations first")


@contextlib.asynccontextmanager
async def session(database: DatabaseSettings) -> AsyncIterator[asyncpg.Connection]:
    """A connection for one command (thresholds, dead letters): a schema that is missing or older than
    this jsctl, and a Postgres failing meanwhile, each end the command with one line."""
    import asyncpg

    conn = await connect(database)
    try:
        yield conn
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as exc:
        raise missing_schema(database, exc) from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise ConnectionFailed(redact(f"Postgres at {database.display_url}: {describe_database_error(exc)}",
                                      database.secrets())) from None
    finally:
        conn.terminate()  # every statement was awaited; a transaction left open rolls back


class Recorded(NamedTuple):  # one per message: a NamedTuple is 3x cheaper to make than a frozen dataclass
    """What the database holds for one event of the batch after the call."""

    outcome: str  # NEW | DUPLICATE | CONFLICT
    status: str
    reason: str | None
    # The stored transaction for DUPLICATE and CONFLICT (None for NEW: the event itself is what was stored)
    user_id: str | None
    mode: str | None
    amount: Decimal | None
    stream_sequence: int | None


@dataclass(frozen=True, slots=True)
class Rejected:
    stream: str
    stream_sequence: int
    subject: str
    raw: bytes
    reason: str
    detail: str
    transaction_id: str | None = None
    msg_id: str | None = None  # events.message_id of the message


class Store:
    """One asyncpg connection, reopened after a failure (Postgres restarting is a transient fault)."""

    def __init__(self, database: DatabaseSettings, limits: Limits):
        self.database, self.limits = database, limits
        self.conn: asyncpg.Connection | None = None

    async def open(self) -> None:
        """Connect and check that the schema is there: a missing schema is the user's to fix, not a fault to retry."""
        import asyncpg

        self.conn = await connect(self.database)
        try:  # both statements on no rows: every table, column and function the worker writes exists
            await self.record([])
            await self.reject([])
        except (asyncpg.UndefinedFunctionError, asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as exc:
            await self.close()
            raise missing_schema(self.database, exc) from None

    async def reopen(self) -> None:
        """Try once to get a working connection again; raises while Postgres is still away."""
        await self.close()
        self.conn = await connect(self.database, timeout=5)

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.terminate()

    async def record(self, events: Sequence[Event]) -> list[Recorded]:
        """Record a batch of events with distinct transaction ids; results are in the order of ``events``."""
        assert self.conn is not None, "record() on a closed store"
        rows = await self.conn.fetch(
            RECORD_BATCH,
            [e.transaction_id for e in events], [e.user_id for e in events], [e.mode for e in events],
            [e.amount for e in events], [e.digest for e in events], [e.stream_sequence for e in events],
            [e.stream_time for e in events], self.limits.max_amount, self.limits.daily_limit,
        )
        recorded: list[Recorded | None] = [None] * len(events)
        for row in rows:  # one row per event, not in order: ord is its 1-based position
            recorded[row[0] - 1] = Recorded(*row[1:])
        return recorded  # type: ignore[return-value]

    async def reject(self, rejected: Sequence[Rejected]) -> None:
        """Store dead letters; idempotent per (stream, sequence, reason), so a redelivery adds nothing."""
        assert self.conn is not None, "reject() on a closed store"
        rows = [(r.stream, r.stream_sequence, r.subject, r.raw[:RAW_KEPT], len(r.raw),
                 hashlib.sha256(r.raw).hexdigest(), r.reason, r.detail, r.transaction_id, r.msg_id) for r in rejected]
        columns = [list(column) for column in zip(*rows, strict=True)] or [[]] * INSERT_REJECTED.count("$")
        await self.conn.execute(INSERT_REJECTED, *columns)
