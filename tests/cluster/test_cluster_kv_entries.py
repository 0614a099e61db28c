"""KV entries on an R3 bucket of a 3-node cluster: a concurrent write between plan and apply is refused
by the stream leader and reported as the clear conflict a single server's is (the leader answers
10071, as measured on 2.12.8; 10164, which the clients also take for it, is treated alike); the other
write is kept."""

from __future__ import annotations

import pytest
import yaml
from kv_entries_support import OURS, entries, plan_and_apply, planned, run

from reconciler.jetstream.entries import EntryWriter
from reconciler.jetstream.execute import ApplyFailed, execute


def test_a_concurrent_write_on_a_replicated_bucket_fails_the_apply_clearly(cluster):
    async def body(api, js):
        kv = await js.create_key_value(bucket="CONFIG", replicas=3)
        declared = entries("CONFIG", {"mode": "first"})
        await plan_and_apply(api, declared)
        declared = entries("CONFIG", {"mode": "declared"})
        changes = await planned(api, declared)
        concurrent = await kv.put("mode", b"theirs")
        with pytest.raises(ApplyFailed) as failed:
            await execute(api, changes, entries=EntryWriter({e.address: e.value for e in declared.values()}, OURS))
        assert f"the plan expected revision 1, the key is at revision {concurrent}" in str(failed.value)
        assert (await kv.get("mode")).value == b"theirs"

    run(cluster.url, body)


def test_an_r3_bucket_and_its_entries_in_one_apply(jsctl, cluster, tmp_path):
    """The entries are written once the new bucket's replicas converged (settle), then read back."""
    manifest = tmp_path / "buckets.yaml"
    manifest.write_text(yaml.safe_dump({"key_value": [{"bucket": "CONFIG", "replicas": 3,
                                                       "entries": {"a/b": "x", "k": "v"}}]}))
    env = {"NATS_URL": cluster.url, "JSCTL_OWNER": "app"}
    done = jsctl("apply", "-f", str(manifest), "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Plan: 3 to create." in done.stdout and "verified" in done.stdout
    assert jsctl("plan", "-f", str(manifest), "--detailed-exitcode", env=env).returncode == 0
