"""The threshold rule, as a pure function.

A transaction is approved iff its amount is at most the user's ``max_amount`` and the user's approved
total for the UTC day of the message's stream timestamp, plus the amount, is at most ``daily_limit``
(buy and sell count alike). Only approved amounts count towards the day.

The worker applies this rule inside Postgres (``jsctl_record_batch``, see the worker migration) so a
whole batch is decided and recorded in one round trip under the users' locks; this module is the
reference that the SQL is tested against, and what the naive benchmark baseline uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

APPROVED = "approved"
REJECTED = "rejected"
OVER_MAX_AMOUNT = "over_max_amount"
OVER_DAILY_LIMIT = "over_daily_limit"

DEFAULT_MAX_AMOUNT = Decimal("10000")
DEFAULT_DAILY_LIMIT = Decimal("50000")


@dataclass(frozen=True, slots=True)
class Limits:
    max_amount: Decimal = DEFAULT_MAX_AMOUNT
    daily_limit: Decimal = DEFAULT_DAILY_LIMIT


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    reason: str | None


def decide(amount: Decimal, limits: Limits, approved_today: Decimal) -> Verdict:
    """The verdict for one transaction, given what the user already has approved that day."""
    if amount > limits.max_amount:
        return Verdict(REJECTED, OVER_MAX_AMOUNT)
    if approved_today + amount > limits.daily_limit:
        return Verdict(REJECTED, OVER_DAILY_LIMIT)
    return Verdict(APPROVED, None)


def decide_in_order(amounts: Iterable[Decimal], limits: Limits, approved_today: Decimal) -> list[Verdict]:
    """Verdicts for one user's transactions of one day, in stream order, each counting the approved before it."""
    verdicts = []
    for amount in amounts:
        verdict = decide(amount, limits, approved_today)
        if verdict.status == APPROVED:
            approved_today += amount
        verdicts.append(verdict)
    return verdicts
