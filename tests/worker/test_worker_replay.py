"""`jsctl rejected list|replay` end to end: dead letters made by a worker, a fix, replays, the worker again."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal

import pytest

from reconciler.db.settings import DatabaseSettings
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.worker import WorkerSettings, run
from tests.worker.harness import (
    check_invariants,
    consumer_state,
    event,
    publish,
    query,
    rejected,
    run_worker,
    transactions,
)


def stream_messages(url: str) -> int:
    async def count() -> int:
        nc = await connect_nats(NatsSettings(url=url))
        try:
            return (await JetStreamApi(nc).request("STREAM.INFO.USER_TXN"))["state"]["messages"]
        finally:
            await nc.close()

    return asyncio.run(count())


def run_worker_that_refuses_sell(url: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker of a release with a bug: `sell` events are dead-lettered (invalid_transaction_mode)."""
    with monkeypatch.context() as patched:
        patched.setattr("reconciler.worker.events.MODES", ("buy",))
        assert run(WorkerSettings(NatsSettings(url=url), DatabaseSettings(database_url), until_idle=True)) == 0


def listed(jsctl, database_url: str, *args: str) -> list[dict]:
    done = jsctl("rejected", "list", "-o", "json", *args, "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["dead_letters"]


def test_replay_after_a_fix_records_each_event_once_under_its_original_id(jsctl, user_txn, worker_db, monkeypatch):
    publish(user_txn, [
        (event("b1", "u1", "10"), {"Nats-Msg-Id": "b1"}),
        (event("s1", "u1", "20", "sell"), {"Nats-Msg-Id": "s1"}),  # the id in the event
        (event(None, "u1", "30", "sell"), {"Nats-Msg-Id": "m-2"}),  # the id only in Nats-Msg-Id
        (event(None, "u2", "40", "sell"), None),  # no id at all: the worker derives USER_TXN-<sequence>
    ])
    run_worker_that_refuses_sell(user_txn, worker_db, monkeypatch)
    assert set(transactions(worker_db)) == {"b1"}
    letters = listed(jsctl, worker_db)
    assert [(d["stream_sequence"], d["reason"], d["msg_id"], d["replayed_at"]) for d in letters] == [
        (2, "invalid_transaction_mode", "s1", None), (3, "invalid_transaction_mode", "m-2", None),
        (4, "invalid_transaction_mode", None, None)]

    # The fix is deployed (the patch is gone); the dead letters are replayed, then processed.
    dry = jsctl("rejected", "replay", "--all", "--dry-run", "--server", user_txn, "--database-url", worker_db)
    assert dry.returncode == 0, dry.stderr
    assert "would replay 3 dead letters" in dry.stdout and "(original id USER_TXN-4)" in dry.stdout
    assert stream_messages(user_txn) == 5  # 4 events and b1's verdict: the dry run sent nothing
    done = jsctl("rejected", "replay", "--all", "--server", user_txn, "--database-url", worker_db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"replayed dead letter {letters[0]['id']} (USER_TXN #2, invalid_transaction_mode) as USER_TXN #6",
        f"replayed dead letter {letters[1]['id']} (USER_TXN #3, invalid_transaction_mode) as USER_TXN #7",
        f"replayed dead letter {letters[2]['id']} (USER_TXN #4, invalid_transaction_mode) as USER_TXN #8",
        "replayed 3 of 3 dead letters"]
    assert run_worker(user_txn, worker_db).returncode == 0
    ids = {"b1", "s1", "m-2", "USER_TXN-4"}  # each event under the id the original had
    assert set(transactions(worker_db)) == ids
    assert [(d["replay_sequence"], d["replayed_at"] is not None) for d in listed(jsctl, worker_db)] == [
        (6, True), (7, True), (8, True)]

    # A second replay sends nothing: every row is marked.
    again = jsctl("rejected", "replay", "--all", "--server", user_txn, "--database-url", worker_db)
    assert again.returncode == 0 and again.stdout == "no dead letters to replay\n"
    named = jsctl("rejected", "replay", str(letters[0]["id"]), "--server", user_txn, "--database-url", worker_db)
    assert named.returncode == 1 and "was replayed at" in named.stderr and "as USER_TXN #6" in named.stderr

    # Sent again anyway (a replay that died before marking its rows): the stream drops it (same Nats-Msg-Id).
    query(worker_db, "UPDATE rejected_messages SET replayed_at = NULL, replay_sequence = NULL")
    resent = jsctl("rejected", "replay", "--all", "--server", user_txn, "--database-url", worker_db)
    assert resent.returncode == 0, resent.stderr
    assert resent.stdout.count("the stream had it already") == 3
    assert stream_messages(user_txn) == 11  # 4 events, 3 replays, 4 verdicts: nothing new
    # Past the stream's duplicate window the replay would be stored again: the worker's own record keeps
    # it at once. (The same message as a replay past the window: new Nats-Msg-Id, same original id.)
    publish(user_txn, [(event(None, "u1", "30", "sell"), {"Nats-Msg-Id": "later", "Jsctl-Original-Msg-Id": "m-2"}),
                       (event(None, "u2", "40", "sell"), {"Nats-Msg-Id": "later-2",
                                                          "Jsctl-Original-Msg-Id": "USER_TXN-4"})])
    done = run_worker(user_txn, worker_db)
    assert done.returncode == 0 and "duplicates=2" in done.stderr.splitlines()[-1]
    assert query(worker_db, "SELECT user_id, approved_total FROM daily_totals ORDER BY 1") == [
        ("u1", Decimal(60)), ("u2", Decimal(40))]
    check_invariants(user_txn, worker_db, ids, Counter(invalid_transaction_mode=3))


def test_a_dead_letter_kept_in_part_refuses_the_replay_before_anything_is_sent(jsctl, user_txn, worker_db):
    huge = b'{"userId":"u1","pad":"' + b"x" * 100_000 + b'"}'
    publish(user_txn, [b"not json", huge])
    assert run_worker(user_txn, worker_db).returncode == 0
    first, second = (d["id"] for d in listed(jsctl, worker_db))
    done = jsctl("rejected", "replay", "--all", "--server", user_txn, "--database-url", worker_db)
    assert done.returncode == 1
    assert done.stderr == (
        f"jsctl: error: nothing replayed:\ndead letter {second} (USER_TXN #2, payload_too_large) keeps 65,536 of its "
        f"{len(huge):,} bytes (rejected_messages keeps the first 64 KiB of a payload): it cannot be replayed whole\n")
    assert stream_messages(user_txn) == 2 and query(worker_db, "SELECT count(*) FROM rejected_messages "
                                                               "WHERE replayed_at IS NOT NULL") == [(0,)]
    unknown = jsctl("rejected", "replay", "999", str(first), "--server", user_txn, "--database-url", worker_db)
    assert unknown.returncode == 1 and unknown.stderr == "jsctl: error: nothing replayed:\ndead letter 999 not found\n"
    nothing = jsctl("rejected", "replay", "--server", user_txn, "--database-url", worker_db)
    assert nothing.returncode == 1 and "say which dead letters to replay" in nothing.stderr
    one = jsctl("rejected", "replay", str(first), "--server", user_txn, "--database-url", worker_db)
    assert one.returncode == 0 and one.stdout.endswith("replayed 1 of 1 dead letters\n")
    assert run_worker(user_txn, worker_db).returncode == 0
    assert [r[1] for r in rejected(worker_db)] == ["malformed_json", "payload_too_large", "malformed_json"]


def test_a_replay_to_a_subject_no_stream_captures_fails_naming_the_dead_letter(jsctl, user_txn, worker_db):
    publish(user_txn, [b"not json", b"[]"])
    assert run_worker(user_txn, worker_db).returncode == 0
    query(worker_db, "UPDATE rejected_messages SET subject = 'NOWHERE.maker' WHERE stream_sequence = 2")
    done = jsctl("rejected", "replay", "--all", "--server", user_txn, "--database-url", worker_db)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[-1] == "replayed 1 of 2 dead letters"
    assert "replay stopped at dead letter" in done.stderr and "(USER_TXN #2, not_an_object)" in done.stderr
    assert done.stderr.count("\n") == 1
    assert query(worker_db, "SELECT stream_sequence, replay_sequence FROM rejected_messages ORDER BY 1") == [
        (1, 3), (2, None)]  # the one sent is marked; the other can be replayed once its subject is fixed


def test_list_filters_and_text(jsctl, user_txn, worker_db):
    publish(user_txn, [b"not json", b"[]", b"{}", b"null"])
    assert run_worker(user_txn, worker_db).returncode == 0
    text = jsctl("rejected", "list", "--database-url", worker_db)
    assert text.returncode == 0, text.stderr
    header, *rows = text.stdout.splitlines()
    assert header.split() == ["ID", "RECEIVED", "MESSAGE", "SUBJECT", "REASON", "BYTES", "REPLAYED", "DETAIL"]
    assert [row.split()[3:7] for row in rows] == [
        ["#1", "USER_TXN.maker", "malformed_json", "8"], ["#2", "USER_TXN.maker", "not_an_object", "2"],
        ["#3", "USER_TXN.maker", "missing_field", "2"], ["#4", "USER_TXN.maker", "not_an_object", "4"]]
    assert [d["stream_sequence"] for d in listed(jsctl, worker_db, "--reason", "not_an_object")] == [2, 4]
    assert [d["stream_sequence"] for d in listed(jsctl, worker_db, "--limit", "2")] == [3, 4]
    assert listed(jsctl, worker_db, "--since", "2999-01-01T00:00:00Z") == []
    assert len(listed(jsctl, worker_db, "--since", "1h")) == 4
    assert listed(jsctl, worker_db)[0]["payload_base64"] == "bm90IGpzb24="
    replay = jsctl("rejected", "replay", "--reason", "not_an_object", "--limit", "1", "--server", user_txn,
                   "--database-url", worker_db)
    assert replay.returncode == 0 and replay.stdout.endswith("replayed 1 of 1 dead letters\n")
    assert [d["stream_sequence"] for d in listed(jsctl, worker_db, "--pending")] == [1, 3, 4]
    bad = jsctl("rejected", "list", "--since", "yesterday", "--database-url", worker_db)
    assert bad.returncode == 1 and "'yesterday' is not a duration" in bad.stderr
    empty = jsctl("rejected", "list", "--reason", "nothing_like_it", "--database-url", worker_db)
    assert empty.stdout == "no dead letters\n"
    assert consumer_state(user_txn)["num_pending"] == 1  # the replay, for the worker
