"""Parsing and validation of ``UserTransaction`` events: bytes in, an ``Event`` or a ``BadEvent`` out.

Amounts are exact decimals from the wire to the database (``json.loads`` with ``parse_float=Decimal``);
a float never touches them. Everything here is pure: no I/O, so the whole corpus of bad events is
unit-tested without servers.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from decimal import Context, Decimal
from typing import NamedTuple

MAX_EVENT_BYTES = 16 * 1024  # a real event is ~100 bytes; anything this big is garbage or an attack
MAX_ID_CHARS = 128
MAX_AMOUNT = Decimal(10) ** 12
AMOUNT_DECIMALS = 6
MODES = ("buy", "sell")
FIELDS = ("userId", "transactionMode", "amount", "transactionId")

_MICRO = Decimal(1).scaleb(-AMOUNT_DECIMALS)
# Postgres text cannot hold NUL or lone surrogates; other control characters are never legitimate ids.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_WIDE = Context(prec=60)  # wide enough that quantizing any amount <= MAX_AMOUNT is exact


class BadEvent(Exception):
    """An event that can never be processed: recorded in rejected_messages, then terminated."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


class Event(NamedTuple):  # immutable, and 3x cheaper to make than a frozen dataclass (one per message)
    transaction_id: str
    user_id: str
    mode: str
    amount: Decimal
    stream_sequence: int
    stream_time: datetime
    digest: str  # sha256 of the canonical event: same id with another digest is a conflicting duplicate


def amount_text(amount: Decimal) -> str:
    """The exact amount as a JSON number without exponent or trailing zeros: 123.456000 -> 123.456."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# `jsctl rejected replay` re-publishes a dead letter under a Nats-Msg-Id of its own (the stream would
# drop the original one as a duplicate for its whole duplicate_window) and names the original here.
ORIGINAL_MSG_ID = "Jsctl-Original-Msg-Id"


def message_id(headers: dict[str, str] | None) -> str | None:
    """The id a message stands for: a replay's original id, else its ``Nats-Msg-Id``."""
    return (headers.get(ORIGINAL_MSG_ID) or headers.get("Nats-Msg-Id")) if headers else None


def derived_transaction_id(stream: str, stream_sequence: int) -> str:
    """The id of an event that carries neither a transactionId nor a Nats-Msg-Id: stable across redeliveries."""
    return f"{stream}-{stream_sequence}"


def parse_event(data: bytes, *, stream: str, stream_sequence: int, stream_time: datetime,
                msg_id: str | None = None) -> Event:
    """Validate one message; raise ``BadEvent(reason, detail)`` for anything that is not a valid event."""
    if len(data) > MAX_EVENT_BYTES:
        raise BadEvent("payload_too_large", f"{len(data)} bytes > {MAX_EVENT_BYTES}")
    if not data.strip():
        raise BadEvent("empty_payload", "the message has no content")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadEvent("invalid_utf8", f"byte {exc.start} is not UTF-8") from None
    try:
        document = _loads(text)
    except _DuplicateKey as exc:
        raise BadEvent("duplicate_field", f"field {exc.args[0]!r} appears twice") from None
    except (ValueError, RecursionError) as exc:
        raise BadEvent("malformed_json", _short(str(exc))) from None
    body = _unwrap(document)
    missing = [name for name in FIELDS[:3] if name not in body]
    if missing:
        raise BadEvent("missing_field", f"missing {', '.join(missing)}")
    user_id = check_identifier(body["userId"], "userId", "invalid_user_id")
    mode = body["transactionMode"]
    if mode not in MODES:
        raise BadEvent("invalid_transaction_mode", f"transactionMode must be buy or sell, got {_short(repr(mode))}")
    amount = _amount(body["amount"])
    if body.get("transactionId") is not None:
        transaction_id = check_identifier(body["transactionId"], "transactionId", "invalid_transaction_id")
    elif msg_id:
        transaction_id = check_identifier(msg_id, "Nats-Msg-Id", "invalid_transaction_id")
    else:
        transaction_id = derived_transaction_id(stream, stream_sequence)
    # Ids hold no control characters, so newline-joined fields are unambiguous.
    canonical = f"{transaction_id}\n{user_id}\n{mode}\n{amount_text(amount)}"
    return Event(transaction_id, user_id, mode, amount, stream_sequence, stream_time,
                 hashlib.sha256(canonical.encode()).hexdigest())


class _DuplicateKey(ValueError):
    pass


_QUOTED_KEYS = tuple(f'"{key}"' for key in ("userTransaction", *FIELDS))
# Built once: json.loads(text, **options) builds a decoder and its scanner on every call.
_EXACT = {"parse_float": Decimal, "parse_int": Decimal, "parse_constant": Decimal}
_DECODER = json.JSONDecoder(**_EXACT)


def _loads(text: str) -> object:
    """JSON with exact numbers; a field of the event given twice is an error, not "the last one wins".

    Checking every object's pairs costs as much as the parse itself, so that slow path is taken only
    when a field name occurs twice in the text or escapes could hide one.
    """
    if "\\u" in text or any(text.count(key) > 1 for key in _QUOTED_KEYS):
        return json.loads(text, object_pairs_hook=_unique_keys, **_EXACT)
    return _DECODER.decode(text)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        raise _DuplicateKey(next(name for name in names if names.count(name) > 1))
    return result


def _unwrap(document: object) -> dict:
    """The event object, whether sent bare or wrapped as ``{"userTransaction": {...}}`` (the seed's form)."""
    if isinstance(document, dict) and set(document) == {"userTransaction"}:
        document = document["userTransaction"]
    if not isinstance(document, dict):
        raise BadEvent("not_an_object", f"the event must be a JSON object, got {_json_type(document)}")
    return document


def check_identifier(value: object, name: str, reason: str) -> str:
    """``value`` if it is a usable id (user or transaction): a string, not blank, at most MAX_ID_CHARS
    characters, no control characters; else ``BadEvent(reason, why)``."""
    if not isinstance(value, str):
        raise BadEvent(reason, f"{name} must be a string, got {_json_type(value)}")
    if not value.strip():
        raise BadEvent(reason, f"{name} is empty")
    if len(value) > MAX_ID_CHARS:
        raise BadEvent(reason, f"{name} has {len(value)} characters > {MAX_ID_CHARS}")
    if _CONTROL.search(value):
        raise BadEvent(reason, f"{name} contains control characters")
    return value


def _amount(value: object) -> Decimal:
    if not isinstance(value, Decimal):
        raise BadEvent("invalid_amount", f"amount must be a JSON number, got {_json_type(value)}")
    if not value.is_finite():
        raise BadEvent("amount_not_finite", f"amount is {value}")
    if value <= 0:
        raise BadEvent("amount_not_positive", f"amount {_short(str(value))} is not > 0")
    if value > MAX_AMOUNT:
        raise BadEvent("amount_too_large", f"amount {_short(str(value))} > 10^12")
    if value != value.quantize(_MICRO, context=_WIDE):
        raise BadEvent("amount_too_precise", f"amount {_short(str(value))} has more than {AMOUNT_DECIMALS} decimals")
    return value


def _json_type(value: object) -> str:
    if isinstance(value, Decimal):
        return "number" if value.is_finite() else str(value)
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
