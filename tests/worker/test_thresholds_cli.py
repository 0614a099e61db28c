"""`jsctl thresholds set|list|import` against a real Postgres, and the worker deciding with what they wrote."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

from tests.worker.harness import check_invariants, event, publish, query, run_worker, transactions


def stored(database_url: str) -> dict[str, tuple[Decimal, Decimal]]:
    rows = query(database_url, "SELECT user_id, max_amount, daily_limit FROM user_thresholds")
    return {user: (max_amount, daily_limit) for user, max_amount, daily_limit in rows}


def test_set_creates_then_changes_one_limit_exactly(jsctl, worker_db):
    done = jsctl("thresholds", "set", "u1", "--max-amount", "100.25", "--daily-limit", "1000", "--database-url",
                 worker_db)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "u1: max_amount 100.25, daily_limit 1000\n"
    done = jsctl("thresholds", "set", "u1", "--daily-limit", "0.000001", "--database-url", worker_db)
    assert done.returncode == 0 and done.stdout == "u1: max_amount 100.25, daily_limit 0.000001\n"
    assert stored(worker_db) == {"u1": (Decimal("100.25"), Decimal("0.000001"))}


def test_set_refuses_what_it_cannot_store_exactly_and_a_new_user_without_both_limits(jsctl, worker_db):
    new = jsctl("thresholds", "set", "u2", "--max-amount", "5", "--database-url", worker_db)
    assert new.returncode == 1 and new.stderr == (
        "jsctl: error: user 'u2' has no thresholds yet: give both --max-amount and --daily-limit\n")
    precise = jsctl("thresholds", "set", "u2", "--max-amount", "0.0000001", "--daily-limit", "1e9",
                    "--database-url", worker_db)
    assert precise.returncode == 1 and precise.stderr == (
        "jsctl: error: max_amount '0.0000001' has more than 6 decimals; daily_limit '1e9' is not a decimal number "
        "(like 250 or 1000.50)\n")
    none = jsctl("thresholds", "set", "u2", "--database-url", worker_db)
    assert none.returncode == 1 and "give --max-amount, --daily-limit or both" in none.stderr
    assert stored(worker_db) == {}


def test_list_text_and_json_with_exact_numbers(jsctl, worker_db):
    query(worker_db, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES "
                     "('b', 9999999999999.999999, 123456789012345678.000001), ('a', 1.5, 20)")
    text = jsctl("thresholds", "list", "--database-url", worker_db)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["USER", "MAX_AMOUNT", "DAILY_LIMIT", "UPDATED"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["a", "1.5", "20"], ["b", "9999999999999.999999", "123456789012345678.000001"]]
    as_json = jsctl("thresholds", "list", "-o", "json", "b", "--database-url", worker_db)
    document = json.loads(as_json.stdout, parse_float=Decimal)
    assert [(r["user_id"], r["max_amount"], r["daily_limit"]) for r in document["thresholds"]] == [
        ("b", Decimal("9999999999999.999999"), Decimal("123456789012345678.000001"))]
    assert document["thresholds"][0]["updated_at"].endswith("Z")
    empty = jsctl("thresholds", "list", "-o", "json", "nobody", "--database-url", worker_db)
    assert json.loads(empty.stdout) == {"thresholds": []}


def test_import_upserts_every_row_in_one_go_and_the_worker_uses_them(jsctl, worker_db, user_txn, tmp_path):
    query(worker_db, "INSERT INTO user_thresholds (user_id, max_amount, daily_limit) VALUES ('u1', 1, 1)")
    path = tmp_path / "limits.csv"
    path.write_text("user_id,max_amount,daily_limit\nu1,100,150\nu2,0.5,0.75\n")
    done = jsctl("thresholds", "import", str(path), "--database-url", worker_db)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"imported 2 thresholds from {path}: 1 new, 1 updated\n"
    assert stored(worker_db) == {"u1": (Decimal(100), Decimal(150)), "u2": (Decimal("0.5"), Decimal("0.75"))}
    publish(user_txn, [event("t1", "u1", "100"), event("t2", "u1", "60"), event("t3", "u2", "0.5"),
                       event("t4", "u2", "0.5")])
    assert run_worker(user_txn, worker_db).returncode == 0
    assert {k: v[3] for k, v in transactions(worker_db).items()} == {
        "t1": None, "t2": "over_daily_limit", "t3": None, "t4": "over_daily_limit"}
    check_invariants(user_txn, worker_db, {"t1", "t2", "t3", "t4"}, Counter())


def test_import_of_a_file_with_a_bad_row_writes_nothing(jsctl, worker_db, tmp_path):
    path = tmp_path / "limits.csv"
    path.write_text("user_id,max_amount,daily_limit\nu1,100,150\nu2,-1,5\nu3,1,2\n")
    done = jsctl("thresholds", "import", str(path), "--database-url", worker_db)
    assert done.returncode == 1
    assert done.stderr == (f"jsctl: error: {path} refused, nothing imported (1 problem):\n"
                           f"{path}:3: max_amount '-1' is not a decimal number (like 250 or 1000.50)\n")
    assert stored(worker_db) == {}
    missing = jsctl("thresholds", "import", str(tmp_path / "nope.csv"), "--database-url", worker_db)
    assert missing.returncode == 1 and "No such file" in missing.stderr and "Traceback" not in missing.stderr


def test_a_database_without_the_workers_schema_or_none_at_all_is_one_line(jsctl, postgres):
    bare = jsctl("thresholds", "list", "--database-url", postgres.url())
    assert bare.returncode == 1 and "lacks the worker's schema" in bare.stderr and "jsctl apply" in bare.stderr
    assert bare.stderr.count("\n") == 1 and postgres.password not in bare.stderr
    unset = jsctl("thresholds", "list")
    assert unset.returncode == 1 and unset.stderr == (
        "jsctl: error: no database configured: pass --database-url or set DATABASE_URL\n")
