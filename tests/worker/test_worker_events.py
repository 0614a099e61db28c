"""Unit tests of event parsing: the bad-event corpus, exact decimals, id fallbacks."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from reconciler.worker.events import BadEvent, amount_text, parse_event
from tests.worker.badevents import CORPUS

WHEN = datetime(2026, 11, 27, 23, 59, 59, tzinfo=timezone.utc)


def parse(data: bytes, msg_id: str | None = None, sequence: int = 7):
    return parse_event(data, stream="USER_TXN", stream_sequence=sequence, stream_time=WHEN, msg_id=msg_id)


def test_the_corpus_has_at_least_30_kinds_and_distinct_payloads():
    assert len(CORPUS) >= 30
    assert len({raw for _, raw, _ in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize(("raw", "reason"), [(raw, reason) for _, raw, reason in CORPUS],
                         ids=[name for name, _, _ in CORPUS])
def test_bad_event_is_rejected_with_its_reason(raw, reason):
    with pytest.raises(BadEvent) as caught:
        parse(raw)
    assert caught.value.reason == reason
    assert "\x00" not in caught.value.detail and len(caught.value.detail) < 200


def test_seed_wrapped_form_and_exact_amount():
    raw = b'{"userTransaction": {"userId": "123456789", "transactionMode": "buy", "amount": 123.456}}'
    event = parse(raw, msg_id="m-1")
    assert (event.user_id, event.mode, event.amount, event.transaction_id) == ("123456789", "buy",
                                                                               Decimal("123.456"), "m-1")
    assert isinstance(event.amount, Decimal)


@pytest.mark.parametrize("amount", ["0.000001", "1000000000000", "1e3", "1.500000000", "0.1", "9007199254740993.5e-4"])
def test_amounts_at_the_edges_are_exact(amount):
    event = parse(f'{{"userId":"u","transactionMode":"sell","amount":{amount}}}'.encode())
    assert event.amount == Decimal(amount)


def test_transaction_id_falls_back_to_msg_id_then_stream_sequence():
    body = b'{"userId":"u","transactionMode":"buy","amount":1}'
    assert parse(body, msg_id="abc").transaction_id == "abc"
    assert parse(body, sequence=42).transaction_id == "USER_TXN-42"
    assert parse(body[:-1] + b',"transactionId":"t-9"}', msg_id="abc").transaction_id == "t-9"


def test_digest_is_canonical_and_sensitive_to_content():
    a = parse(b'{"userId":"u","transactionMode":"buy","amount":1.50,"transactionId":"t"}')
    b = parse(b'{"transactionId":"t", "amount":1.5, "transactionMode":"buy", "userId":"u", "note":"x"}')
    c = parse(b'{"userId":"u","transactionMode":"buy","amount":1.51,"transactionId":"t"}')
    assert a.digest == b.digest != c.digest


def test_amount_text_is_exact_json():
    cases = {"123.456000": "123.456", "1E+3": "1000", "0.000001": "0.000001", "1000000000000.000000": "1000000000000"}
    for stored, text in cases.items():
        assert amount_text(Decimal(stored)) == text
        assert json.loads(text, parse_float=Decimal) == Decimal(stored)
