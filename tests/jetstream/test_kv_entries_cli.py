"""`entries:` of KV buckets through the real `jsctl` (issue #13): plan, apply, replan empty; a hand change
planned back; sensitive values in no output; saved plans keep revisions, not values; --prune of jsctl's
own keys only; value_file; keys with '/' and '.'; nats-py reads what jsctl wrote."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import nats
import pytest
import yaml
from nats.js.errors import KeyNotFoundError

SECRET = "s3cr3t-Value-0f-the-api-token"
LONG = "x" * 250 + "-tail"


def env(url: str, owner: str = "app") -> dict[str, str]:
    return {"NATS_URL": url, "JSCTL_OWNER": owner}


def write(directory, entries: dict, **bucket) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "buckets.yaml").write_text(yaml.safe_dump(
        {"key_value": [{"bucket": "CONFIG", "history": 5, **bucket, "entries": entries}]}, sort_keys=False))
    return ["-f", str(directory / "buckets.yaml")]


def kv(url: str, scenario):
    """``scenario(bucket)`` on nats-py's view of bucket CONFIG."""
    async def run():
        nc = await nats.connect(url)
        try:
            return await scenario(await nc.jetstream().key_value("CONFIG"))
        finally:
            await nc.close()

    return asyncio.run(run())


def get(url: str, *keys: str) -> dict[str, bytes | None]:
    async def scenario(bucket):
        found = {}
        for key in keys:
            try:
                found[key] = (await bucket.get(key)).value
            except KeyNotFoundError:
                found[key] = None
        return found

    return kv(url, scenario)


def put(url: str, key: str, value: bytes, headers: dict[str, str] | None = None) -> int:
    """nats-py's put, or a JetStream publish to the key with ``headers``; the new revision."""
    async def scenario(bucket):
        if headers is None:
            return await bucket.put(key, value)
        return (await bucket._js.publish(f"$KV.CONFIG.{key}", value, headers=headers)).seq

    return kv(url, scenario)


def plan_json(jsctl, url, files, *more: str) -> dict:
    done = jsctl("plan", *files, "-o", "json", *more, env=env(url))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plan_apply_replan_then_a_hand_change_is_planned_back(jsctl, js_account, tmp_path):
    (tmp_path / "doc.json").write_text('{"rules": [1, 2]}\n')
    files = write(tmp_path, {"feature.checkout": "on", "a/b.c": "x", "long": LONG,
                             "doc": {"value_file": "doc.json"}})
    planned = plan_json(jsctl, js_account, files)
    entries = {c["address"]: c for c in planned["changes"] if c["address"].count("/") >= 2}
    assert sorted(entries) == ["kv/CONFIG/a/b.c", "kv/CONFIG/doc", "kv/CONFIG/feature.checkout", "kv/CONFIG/long"]
    assert entries["kv/CONFIG/feature.checkout"]["diff"] == [{"path": "value", "before": None, "after": "on"}]
    assert entries["kv/CONFIG/long"]["diff"][0]["after"] == LONG  # JSON keeps the whole value
    assert {c["desired"]["revision"] for c in entries.values()} == {0}
    text = jsctl("plan", *files, env=env(js_account)).stdout
    assert f'"{"x" * 199}… ({len(LONG) + 2} characters)' in text and "-tail" not in text  # cut at 200
    done = jsctl("apply", *files, "--yes", env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert get(js_account, "feature.checkout", "a/b.c", "long", "doc") == {
        "feature.checkout": b"on", "a/b.c": b"x", "long": LONG.encode(), "doc": b'{"rules": [1, 2]}\n'}
    assert jsctl("plan", *files, "--detailed-exitcode", env=env(js_account)).returncode == 0
    revision = put(js_account, "feature.checkout", b"off")  # by hand
    changed = jsctl("plan", *files, "--detailed-exitcode", env=env(js_account))
    assert changed.returncode == 2
    assert 'kv/CONFIG/feature.checkout  update (changed outside jsctl' in changed.stdout
    assert 'value: "off" -> "on"' in changed.stdout
    [update] = [c for c in plan_json(jsctl, js_account, files)["changes"] if c["action"] == "update"]
    assert update["desired"] == {"revision": revision}
    assert jsctl("apply", *files, "--yes", env=env(js_account)).returncode == 0
    assert get(js_account, "feature.checkout") == {"feature.checkout": b"on"}
    (tmp_path / "doc.json").write_text("{}\n")  # the file changed: an update
    assert [c["address"] for c in plan_json(jsctl, js_account, files)["changes"] if c["action"] == "update"] == [
        "kv/CONFIG/doc"]


def test_a_sensitive_value_is_in_no_output(jsctl, js_account, tmp_path):
    files = write(tmp_path, {"api.token": {"value": SECRET, "sensitive": True}})
    saved = tmp_path / "plan.json"
    outputs = [jsctl("plan", *files, "-o", form, "--out", str(saved), env=env(js_account))
               for form in ("text", "json", "markdown", "prometheus")]
    assert all(done.returncode == 0 for done in outputs), [done.stderr for done in outputs]
    [change] = [c for c in json.loads(outputs[1].stdout)["changes"] if c["address"] == "kv/CONFIG/api.token"]
    assert change["diff"] == [{"path": "value", "before": None, "after": None, "sensitive": True}]
    assert change["sensitive"] is True and change["details"] == {"sensitive": True}
    assert change["desired"] == {"revision": 0}
    jsonschema.validate(json.loads(outputs[1].stdout), json.loads(jsctl("plan", "--print-schema").stdout))
    assert "value: (sensitive: not shown)" in outputs[0].stdout
    assert "(sensitive: not shown)" in outputs[2].stdout
    applied = jsctl("--debug", "apply", str(saved), *files, env=env(js_account))
    assert applied.returncode == 0, applied.stderr
    assert get(js_account, "api.token") == {"api.token": SECRET.encode()}
    put(js_account, "api.token", b"changed-by-hand")
    again = [jsctl("plan", *files, "-o", form, env=env(js_account)) for form in ("text", "json", "markdown")]
    assert "changed-by-hand" not in "".join(done.stdout + done.stderr for done in again)
    everything = [*outputs, applied, *again]
    assert SECRET not in "".join(done.stdout + done.stderr for done in everything) + saved.read_text()


def test_a_saved_plan_records_revisions_and_is_stale_after_a_concurrent_write(jsctl, js_account, tmp_path):
    files = write(tmp_path, {"mode": "declared"})
    assert jsctl("apply", *write(tmp_path, {"mode": "first"}), "--yes", env=env(js_account)).returncode == 0
    saved = tmp_path / "plan.json"
    assert jsctl("plan", *files, "--out", str(saved), env=env(js_account)).returncode == 0
    basis = json.loads(saved.read_text())["basis"]["live"]
    assert basis["kv/CONFIG/mode"] == {"config": {"revision": 1}}
    revision = put(js_account, "mode", b"theirs")
    done = jsctl("apply", str(saved), *files, env=env(js_account))
    assert done.returncode == 3, done.stderr
    assert f"live resource kv/CONFIG/mode was changed since the plan: revision: 1 -> {revision}" in done.stderr
    assert get(js_account, "mode") == {"mode": b"theirs"}


def test_prune_deletes_only_keys_this_project_wrote_last(jsctl, js_account, tmp_path):
    files = write(tmp_path, {"ours": "1", "ours.too": "2", "retaken": "3"})
    assert jsctl("apply", *files, "--yes", env=env(js_account)).returncode == 0
    put(js_account, "by.hand", b"4")
    put(js_account, "retaken", b"5")
    put(js_account, "theirs", b"6", {"Jsctl-Managed": "true", "Jsctl-Owner": "search"})  # another project's jsctl
    files = write(tmp_path, {"ours": "1"})
    without_prune = plan_json(jsctl, js_account, files)
    assert [c for c in without_prune["changes"] if c["action"] != "unmanaged"] == []
    pruned = plan_json(jsctl, js_account, files, "--prune")
    assert [(c["address"], c["action"]) for c in pruned["changes"] if c["action"] != "unmanaged"] == [
        ("kv/CONFIG/ours.too", "delete")]
    refused = jsctl("apply", *files, "--prune", "--yes", env=env(js_account))
    assert refused.returncode == 3  # a delete is destructive
    done = jsctl("apply", *files, "--prune", "--yes", "--allow-destructive", env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert get(js_account, "ours", "ours.too", "by.hand", "retaken", "theirs") == {
        "ours": b"1", "ours.too": None, "by.hand": b"4", "retaken": b"5", "theirs": b"6"}
    assert jsctl("plan", *files, "--prune", "--detailed-exitcode", env=env(js_account)).returncode == 0


@pytest.mark.parametrize("entry, message", [
    ({"a..b": "x"}, "must not contain '..'"),
    ({"k": {"value_file": "missing.txt"}}, "'missing.txt': no such file"),
])
def test_bad_entries_are_located_errors(jsctl, js_account, tmp_path, entry, message):
    files = write(tmp_path, entry)
    done = jsctl("plan", *files, env=env(js_account))
    assert done.returncode == 1 and message in done.stderr and "buckets.yaml:" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_value_file_edited_after_a_saved_plan_makes_it_stale(jsctl, js_account, tmp_path):
    (tmp_path / "rules.json").write_text("[1]\n")
    files = write(tmp_path, {"rules": {"value_file": "rules.json"}})
    saved = tmp_path / "plan.json"
    assert jsctl("plan", *files, "--out", str(saved), env=env(js_account)).returncode == 0
    (tmp_path / "rules.json").write_text("[2]\n")
    done = jsctl("apply", str(saved), *files, env=env(js_account))
    assert done.returncode == 3 and "rules.json was edited since the plan" in done.stderr, done.stderr
    assert "Nothing was applied" in done.stderr


def test_a_key_another_project_wrote_last_is_refused_unless_taken_over(jsctl, js_account, tmp_path):
    assert jsctl("apply", *write(tmp_path, {}), "--yes", env=env(js_account)).returncode == 0
    put(js_account, "shared", b"theirs", {"Jsctl-Managed": "true", "Jsctl-Owner": "search"})
    files = write(tmp_path, {"shared": "ours"})
    refused = jsctl("plan", *files, env=env(js_account))
    assert refused.returncode == 1
    assert "kv/CONFIG/shared: owned by project search, declared by project app" in refused.stdout + refused.stderr
    done = jsctl("apply", *files, "--from-owner", "search", "--yes", env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert get(js_account, "shared") == {"shared": b"ours"}
    assert jsctl("plan", *files, "--detailed-exitcode", env=env(js_account)).returncode == 0  # app's now


def test_a_sensitive_value_from_the_environment(jsctl, js_account, tmp_path):
    files = write(tmp_path, {"api.token": {"value": "${env:API_TOKEN}", "sensitive": True}})
    done = jsctl("apply", *files, "--yes", env={**env(js_account), "API_TOKEN": SECRET})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr and "value: (sensitive: not shown)" in done.stdout
    assert get(js_account, "api.token") == {"api.token": SECRET.encode()}
