"""Per-user thresholds (``user_thresholds``): checked as the worker and the columns need them, then written.

Amounts are exact decimals from the command line or the CSV file to the ``numeric`` columns (a float never
touches them): a plain decimal number (``250``, ``1000.50``), > 0, with at most the column's 6 decimals
and no more integer digits than it holds; Postgres would round extra decimals silently. User ids follow
the events' ``userId`` rule, and may not start or end with whitespace (in a CSV file, that is almost
always a space after a comma, and the worker would never match it).

A CSV file is checked whole before anything is written: any bad row refuses the file, every problem
reported as ``file:line: message``; then all rows are upserted in one statement (one transaction).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from ..errors import UserError
from .events import BadEvent, check_identifier

if TYPE_CHECKING:
    import asyncpg

# numeric(precision, scale) of each column, as migrations/schema.yaml declares them (a test checks they agree)
COLUMNS = {"max_amount": (19, 6), "daily_limit": (24, 6)}
HEADER = ("user_id", *COLUMNS)
MAX_REPORTED = 20  # problems listed for one file; the count of the others follows
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)


class Threshold(NamedTuple):
    user_id: str
    max_amount: Decimal
    daily_limit: Decimal


class Stored(NamedTuple):
    threshold: Threshold
    updated_at: datetime


def amount(text: str, column: str) -> Decimal:
    """The exact amount in ``text`` for ``column``; ValueError saying what is wrong."""
    precision, scale = COLUMNS[column]
    match = _DECIMAL.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{column} {_quoted(text)} is not a decimal number (like 250 or 1000.50)")
    whole, fraction = match[1].lstrip("0"), (match[2] or "").rstrip("0")
    if len(fraction) > scale:
        raise ValueError(f"{column} {_quoted(text)} has more than {scale} decimals")
    if len(whole) > precision - scale:
        raise ValueError(f"{column} {_quoted(text)} is too large (at most {precision - scale} digits before the point)")
    value = Decimal(text.strip())
    if value <= 0:
        raise ValueError(f"{column} must be greater than 0, got {_quoted(text)}")
    return value


def user_id(text: str) -> str:
    """``text`` if it can be a user id; ValueError saying what is wrong."""
    try:
        check_identifier(text, "user_id", "invalid_user_id")
    except BadEvent as exc:
        raise ValueError(exc.detail) from None
    if text != text.strip():
        raise ValueError(f"user_id {_quoted(text)} starts or ends with whitespace")
    return text


def checked(user: str, max_amount: str | None, daily_limit: str | None) -> tuple[str, Decimal | None, Decimal | None]:
    """The arguments of ``jsctl thresholds set``, checked; one UserError naming every bad one."""
    problems: list[str] = []

    def attempt(check, *args):
        try:
            return check(*args)
        except ValueError as exc:
            problems.append(str(exc))
            return None

    user = attempt(user_id, user)
    limits = [None if text is None else attempt(amount, text, column)
              for text, column in ((max_amount, "max_amount"), (daily_limit, "daily_limit"))]
    if problems:
        raise UserError("; ".join(problems))
    return user, limits[0], limits[1]


def parse_csv(data: bytes, name: str) -> list[Threshold]:
    """Every row of a CSV file with a header row ``user_id,max_amount,daily_limit`` (any order), or one
    UserError listing every problem as ``name:line: message``."""
    try:
        text = data.decode("utf-8-sig")  # a byte order mark, as spreadsheets write, is not part of the header
    except UnicodeDecodeError as exc:
        # exc.object is what followed the byte order mark, if there was one
        line, offset = exc.object.count(b"\n", 0, exc.start) + 1, len(data) - len(exc.object) + exc.start
        raise _refused(name, [f"{name}:{line}: not UTF-8 (byte {offset} of the file)"]) from None
    problems: list[str] = []
    thresholds: list[Threshold] = []
    first_line: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: dict[str, int] | None = None
    while True:
        line = reader.line_num + 1  # where the next record starts (a quoted field may span lines)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"{name}:{line}: {exc}")  # the reader cannot find the next record reliably
            break
        if not any(field.strip() for field in row):
            continue
        if columns is None:
            columns = _header(row, f"{name}:{line}", problems)
            if columns is None:
                break
            continue
        if len(row) != len(columns):
            problems.append(f"{name}:{line}: {len(row)} fields, the header has {len(columns)}")
            continue
        try:
            threshold = Threshold(user_id(row[columns["user_id"]]),
                                  *(amount(row[columns[column]], column) for column in COLUMNS))
        except ValueError as exc:
            problems.append(f"{name}:{line}: {exc}")
            continue
        earlier = first_line.setdefault(threshold.user_id, line)
        if earlier != line:
            problems.append(f"{name}:{line}: user {_quoted(threshold.user_id)} is also on line {earlier}")
        thresholds.append(threshold)
    if columns is None and not problems:
        problems.append(f"{name}:1: no header row: expected {','.join(HEADER)}")
    if problems:
        raise _refused(name, problems)
    return thresholds


def _refused(name: str, problems: list[str]) -> UserError:
    more = len(problems) - MAX_REPORTED
    shown = problems[:MAX_REPORTED] + ([f"... and {more} more"] if more > 0 else [])
    return UserError(f"{name} refused, nothing imported ({len(problems)} problem{'s' * (len(problems) > 1)}):\n"
                     + "\n".join(shown))


def _header(row: list[str], where: str, problems: list[str]) -> dict[str, int] | None:
    names = [field.strip() for field in row]
    unknown = [n for n in names if n not in HEADER]
    repeated = sorted({n for n in names if names.count(n) > 1})
    missing = [n for n in HEADER if n not in names]
    for what, found in (("unknown column", unknown), ("column given twice", repeated), ("missing column", missing)):
        if found:
            problems.append(f"{where}: {what}{'s' * (len(found) > 1)} {', '.join(map(_quoted, found))} "
                            f"(the header is {','.join(HEADER)}, in any order)")
    return None if unknown or repeated or missing else {n: names.index(n) for n in HEADER}


def _quoted(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# ---------------------------------------------------------------------------------------------- Postgres

_UPSERT = """
INSERT INTO user_thresholds AS t (user_id, max_amount, daily_limit)
SELECT * FROM unnest($1::text[], $2::numeric[], $3::numeric[])
ON CONFLICT (user_id) DO UPDATE SET max_amount = EXCLUDED.max_amount, daily_limit = EXCLUDED.daily_limit,
                                    updated_at = now()
RETURNING xmax = 0  -- true for a row inserted, false for one updated (its old version's xmax is ours)
"""
_UPDATE = """
UPDATE user_thresholds SET max_amount = coalesce($2, max_amount), daily_limit = coalesce($3, daily_limit),
                           updated_at = now()
WHERE user_id = $1
RETURNING user_id, max_amount, daily_limit
"""
_SELECT = "SELECT user_id, max_amount, daily_limit, updated_at FROM user_thresholds"


async def upsert(conn: asyncpg.Connection, thresholds: Sequence[Threshold]) -> tuple[int, int]:
    """Insert or replace every row in one statement; (inserted, updated)."""
    rows = await conn.fetch(_UPSERT, *([list(column) for column in zip(*thresholds, strict=True)] or [[], [], []]))
    inserted = sum(1 for row in rows if row[0])
    return inserted, len(rows) - inserted


async def set_one(conn: asyncpg.Connection, user: str, max_amount: Decimal | None,
                  daily_limit: Decimal | None) -> Threshold:
    """Change the given limits of ``user``; a user without a row needs both. Returns the stored row."""
    async with conn.transaction():
        row = await conn.fetchrow(_UPDATE, user, max_amount, daily_limit)
        if row is not None:
            return Threshold(*row)
        if max_amount is None or daily_limit is None:
            raise UserError(f"user {_quoted(user)} has no thresholds yet: give both --max-amount and --daily-limit")
        threshold = Threshold(user, max_amount, daily_limit)
        await upsert(conn, [threshold])
        return threshold


async def stored(conn: asyncpg.Connection, users: Sequence[str] = ()) -> list[Stored]:
    """The rows of ``users`` (all when none is named), by user id."""
    if users:
        rows = await conn.fetch(f"{_SELECT} WHERE user_id = ANY($1::text[]) ORDER BY user_id", list(users))
    else:
        rows = await conn.fetch(f"{_SELECT} ORDER BY user_id")
    return [Stored(Threshold(*row[:3]), row[3]) for row in rows]


# ----------------------------------------------------------------------------------------------- output

def render_text(rows: Sequence[Stored]) -> str:
    from .events import amount_text
    from .listing import table, utc

    return table([("USER", "MAX_AMOUNT", "DAILY_LIMIT", "UPDATED")] + [
        (s.threshold.user_id, amount_text(s.threshold.max_amount), amount_text(s.threshold.daily_limit),
         utc(s.updated_at)) for s in rows], right=(1, 2))


def render_json(rows: Sequence[Stored]) -> str:
    from .listing import document, utc

    return document("thresholds", [{"user_id": s.threshold.user_id, "max_amount": s.threshold.max_amount,
                                    "daily_limit": s.threshold.daily_limit, "updated_at": utc(s.updated_at)}
                                   for s in rows])
