"""Plan addresses (plan/address.py): formatted and parsed in one place, every kind round-trips, and any
text still reads as an address of some kind (a saved plan, a test's hand-made change), never an error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.address import (
    CONSUMER,
    DATABASE,
    DB,
    DB_COLUMN,
    DB_FUNCTION,
    DB_REVISION,
    DB_TRIGGER,
    DB_VIEW,
    JETSTREAM,
    KINDS,
    KV,
    KV_ENTRY,
    OBJECTSTORE,
    OTHER,
    STREAM,
    Address,
)

NAME = st.text(min_size=1).filter(lambda s: "/" not in s)


@given(st.sampled_from(sorted(KINDS.values(), key=lambda k: k.prefix)), st.lists(NAME, min_size=2, max_size=2))
def test_every_kind_round_trips(kind, names):
    address = kind.address(*names[:kind.names])
    assert (address.kind, address.names) == (kind, tuple(names[:kind.names]))
    assert json.loads(json.dumps({"a": address})) == {"a": str(address)}


@given(st.text())
def test_any_text_is_an_address_of_some_kind(text):
    address = Address(text)
    assert address.kind.target in (JETSTREAM, DATABASE, OTHER)
    assert address == text and hash(address) == hash(text)


@pytest.mark.parametrize(("text", "kind", "names"), [
    ("stream/ORDERS", STREAM, ("ORDERS",)), ("consumer/ORDERS/C", CONSUMER, ("ORDERS", "C")),
    ("kv/CONFIG", KV, ("CONFIG",)), ("objectstore/ARTIFACTS", OBJECTSTORE, ("ARTIFACTS",)),
    ("db/revision/0002", DB_REVISION, ("0002",)), ("db/column/t.c", DB_COLUMN, ("t.c",)), ("db", DB, ()),
    ("db/column/a/b", DB_COLUMN, ("a/b",)),  # a quoted Postgres name may hold a "/"
    ("db/function/jsctl_record_batch(text[], timestamp with time zone[], numeric)", DB_FUNCTION,
     ("jsctl_record_batch(text[], timestamp with time zone[], numeric)",)),
    ("db/trigger/transactions.audit", DB_TRIGGER, ("transactions.audit",)), ("db/view/totals", DB_VIEW, ("totals",)),
    ("kv/CONFIG/feature.checkout", KV_ENTRY, ("CONFIG", "feature.checkout")),
    ("kv/B/a/b", KV_ENTRY, ("B", "a/b")),  # a KV key may hold "/", a bucket name cannot
])
def test_the_documented_addresses(text, kind, names):
    assert (Address(text).kind, Address(text).names) == (kind, names)


def test_unknown_kinds_are_named_by_their_prefix_and_never_applied():
    assert (Address("queue/B").kind.label, Address("queue/B").target) == ("queue", OTHER)
    assert (Address("db/sequence/s").kind.label, Address("db/sequence/s").target) == ("db_sequence", DATABASE)
    with pytest.raises(ValueError):
        STREAM.address("A", "B")


KEY = st.text(alphabet="abcXYZ019-_=./", min_size=1)


@given(st.text(alphabet="abcXYZ019-_", min_size=1), KEY)
def test_kv_entry_addresses_round_trip_with_any_key(bucket, key):
    address = KV_ENTRY.address(bucket, key)
    assert (address.kind, address.names, address.target, address.kind.label) == \
        (KV_ENTRY, (bucket, key), JETSTREAM, "kv_entry")
