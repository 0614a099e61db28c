"""The threshold rule: pure unit tests, and the database function checked against it."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from reconciler.db.settings import DatabaseSettings
from reconciler.worker.events import Event
from reconciler.worker.store import DUPLICATE, NEW, Store
from reconciler.worker.verdict import (
    APPROVED,
    OVER_DAILY_LIMIT,
    OVER_MAX_AMOUNT,
    REJECTED,
    Limits,
    Verdict,
    decide,
    decide_in_order,
)
from tests.worker.harness import query

D = Decimal
LIMITS = Limits(D("100"), D("150"))


def test_decide_boundaries():
    assert decide(D("100"), LIMITS, D("0")) == Verdict(APPROVED, None)
    assert decide(D("100.000001"), LIMITS, D("0")) == Verdict(REJECTED, OVER_MAX_AMOUNT)
    assert decide(D("50"), LIMITS, D("100")) == Verdict(APPROVED, None)
    assert decide(D("50.000001"), LIMITS, D("100")) == Verdict(REJECTED, OVER_DAILY_LIMIT)
    # over max wins over over-limit: the single-transaction check comes first
    assert decide(D("101"), LIMITS, D("150")) == Verdict(REJECTED, OVER_MAX_AMOUNT)


def test_only_approved_amounts_count_towards_the_day():
    verdicts = decide_in_order([D("90"), D("200"), D("70"), D("60"), D("0.5")], LIMITS, D("0"))
    assert [v.reason for v in verdicts] == [None, OVER_MAX_AMOUNT, OVER_DAILY_LIMIT, None, OVER_DAILY_LIMIT]


def _event(i: int, user: str, amount: Decimal, when: datetime) -> Event:
    return Event(f"t{i}", user, "buy", amount, i, when, f"digest-{i}")


async def _record_in_batches(url: str, events: list[Event], rng: random.Random) -> dict[str, str | None]:
    store = Store(DatabaseSettings(url), Limits(D("60"), D("200")))
    await store.open()
    found: dict[str, str | None] = {}
    try:
        start = 0
        while start < len(events):
            size = rng.randint(1, 40)
            batch = events[start:start + size]
            for event, recorded in zip(batch, await store.record(batch), strict=True):
                assert recorded.outcome == NEW
                found[event.transaction_id] = recorded.reason
            start += size
        replayed = await store.record(events[:50])
        assert {r.outcome for r in replayed} == {DUPLICATE}
        assert [r.reason for r in replayed] == [found[e.transaction_id] for e in events[:50]]
    finally:
        await store.close()
    return found


def test_database_function_applies_the_same_rule(worker_db):
    """Random events over users, days and batch cuts: the SQL verdicts equal rules.decide_in_order's."""
    query(worker_db, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES ('vip', 500, 1000)")
    rng = random.Random(5)
    midnight = datetime(2026, 11, 27, tzinfo=timezone.utc)
    events = [_event(i, rng.choice(["a", "b", "vip"]), D(rng.randint(1, 80_000)).scaleb(-3) * rng.choice([1, 10]),
                     midnight + timedelta(seconds=rng.choice([-1, 0, 1, 3600]))) for i in range(600)]
    found = asyncio.run(_record_in_batches(worker_db, events, rng))
    limits = {"a": Limits(D("60"), D("200")), "b": Limits(D("60"), D("200")), "vip": Limits(D("500"), D("1000"))}
    groups: dict = {}
    for event in events:
        groups.setdefault((event.user_id, event.stream_time.date()), []).append(event)
    expected = {}
    for (user, _day), group in groups.items():
        for event, verdict in zip(group, decide_in_order([e.amount for e in group], limits[user], D(0)), strict=True):
            expected[event.transaction_id] = verdict.reason
    assert found == expected
    assert OVER_DAILY_LIMIT in found.values() and OVER_MAX_AMOUNT in found.values()
