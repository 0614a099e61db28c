"""The corpus of bad events: (name, raw payload, expected reason). Shared by the unit and end-to-end tests."""

from __future__ import annotations

OK = b'"userId":"u1","transactionMode":"buy","amount":1.5'


def _with(fields: str) -> bytes:
    return b"{" + fields.encode() + b"}"


CORPUS: list[tuple[str, bytes, str]] = [
    ("empty", b"", "empty_payload"),
    ("whitespace", b"  \n ", "empty_payload"),
    ("oversized", b'{"userId":"u1","transactionMode":"buy","amount":1,"pad":"' + b"x" * 17000 + b'"}',
     "payload_too_large"),
    ("invalid utf-8", b'{"userId":"\xff\xfe","transactionMode":"buy","amount":1}', "invalid_utf8"),
    ("truncated json", b'{"userId":"u1","transactionMode":"buy","amount":', "malformed_json"),
    ("not json", b"hello world", "malformed_json"),
    ("trailing garbage", b'{"userId":"u1","transactionMode":"buy","amount":1} x', "malformed_json"),
    ("single quotes", b"{'userId':'u1','transactionMode':'buy','amount':1}", "malformed_json"),
    ("array", b'[{"userId":"u1","transactionMode":"buy","amount":1}]', "not_an_object"),
    ("string", b'"userTransaction"', "not_an_object"),
    ("null", b"null", "not_an_object"),
    ("wrapped non-object", b'{"userTransaction": 5}', "not_an_object"),
    ("duplicate key", b'{"userId":"u1","transactionMode":"buy","amount":1,"amount":2}', "duplicate_field"),
    ("escaped duplicate key", b'{"userId":"u1","transactionMode":"buy","amount":1,"\\u0061mount":2}',
     "duplicate_field"),
    ("duplicate wrapper",
     b'{"userTransaction":{"userId":"u1","transactionMode":"buy","amount":1},"userTransaction":{}}', "duplicate_field"),
    ("missing userId", b'{"transactionMode":"buy","amount":1}', "missing_field"),
    ("missing amount", b'{"userId":"u1","transactionMode":"buy"}', "missing_field"),
    ("empty object", b"{}", "missing_field"),
    ("wrapped missing mode", b'{"userTransaction":{"userId":"u1","amount":1}}', "missing_field"),
    ("numeric userId", b'{"userId":123456789,"transactionMode":"buy","amount":1}', "invalid_user_id"),
    ("empty userId", b'{"userId":"","transactionMode":"buy","amount":1}', "invalid_user_id"),
    ("blank userId", b'{"userId":"   ","transactionMode":"buy","amount":1}', "invalid_user_id"),
    ("overlong userId", _with(f'"userId":"{"u" * 129}","transactionMode":"buy","amount":1'), "invalid_user_id"),
    ("NUL in userId", b'{"userId":"u\\u0000","transactionMode":"buy","amount":1}', "invalid_user_id"),
    ("lone surrogate userId", b'{"userId":"\\ud800","transactionMode":"buy","amount":1}', "invalid_user_id"),
    ("unknown mode", b'{"userId":"u1","transactionMode":"hold","amount":1}', "invalid_transaction_mode"),
    ("uppercase mode", b'{"userId":"u1","transactionMode":"BUY","amount":1}', "invalid_transaction_mode"),
    ("null mode", b'{"userId":"u1","transactionMode":null,"amount":1}', "invalid_transaction_mode"),
    ("string amount", b'{"userId":"u1","transactionMode":"buy","amount":"1.5"}', "invalid_amount"),
    ("boolean amount", b'{"userId":"u1","transactionMode":"buy","amount":true}', "invalid_amount"),
    ("null amount", b'{"userId":"u1","transactionMode":"buy","amount":null}', "invalid_amount"),
    ("NaN amount", b'{"userId":"u1","transactionMode":"buy","amount":NaN}', "amount_not_finite"),
    ("Infinity amount", b'{"userId":"u1","transactionMode":"buy","amount":Infinity}', "amount_not_finite"),
    ("-Infinity amount", b'{"userId":"u1","transactionMode":"buy","amount":-Infinity}', "amount_not_finite"),
    ("zero amount", b'{"userId":"u1","transactionMode":"buy","amount":0}', "amount_not_positive"),
    ("negative amount", b'{"userId":"u1","transactionMode":"sell","amount":-5.25}', "amount_not_positive"),
    ("too many decimals", b'{"userId":"u1","transactionMode":"buy","amount":1.0000001}', "amount_too_precise"),
    ("tiny exponent", b'{"userId":"u1","transactionMode":"buy","amount":1e-7}', "amount_too_precise"),
    ("too large", b'{"userId":"u1","transactionMode":"buy","amount":1000000000000.000001}', "amount_too_large"),
    ("huge exponent", b'{"userId":"u1","transactionMode":"buy","amount":1e400}', "amount_too_large"),
    ("5000-digit integer", _with(f'"userId":"u1","transactionMode":"buy","amount":{"9" * 5000}'),
     "amount_too_large"),
    ("numeric transactionId", _with(OK.decode() + ',"transactionId":42'), "invalid_transaction_id"),
    ("empty transactionId", _with(OK.decode() + ',"transactionId":""'), "invalid_transaction_id"),
    ("overlong transactionId", _with(OK.decode() + f',"transactionId":"{"t" * 129}"'), "invalid_transaction_id"),
    ("control char transactionId", _with(OK.decode() + ',"transactionId":"a\\nb"'), "invalid_transaction_id"),
]
