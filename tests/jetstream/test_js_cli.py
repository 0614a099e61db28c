"""`jsctl plan`, `apply` and `export` as a user runs them, against the real nats-server."""

from __future__ import annotations

import json
import subprocess
import sys

from support import REPO

SEED = ["-f", str(REPO / "streams.yaml"), "-f", str(REPO / "consumers.yaml")]


def env(url: str) -> dict[str, str]:
    return {"NATS_URL": url}


def test_plan_apply_cycle_on_the_repos_own_manifests(jsctl, js_account):
    first = jsctl("plan", *SEED, "--detailed-exitcode", env=env(js_account))
    assert first.returncode == 2, first.stderr
    assert "+ stream/USER_TXN  create" in first.stdout and "Plan: 3 to create." in first.stdout
    refused = jsctl("apply", *SEED, env=env(js_account))  # no TTY, no --yes
    assert refused.returncode == 3 and "pass --yes" in refused.stderr
    done = jsctl("apply", *SEED, "--yes", env=env(js_account))
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout
    again = jsctl("plan", *SEED, "--detailed-exitcode", "-o", "json", env=env(js_account))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changes"] == []
    nothing = jsctl("apply", *SEED, "--yes", env=env(js_account))
    assert nothing.returncode == 0 and "No changes." in nothing.stdout and "Apply complete" not in nothing.stdout


def test_destructive_change_is_refused_without_allow_destructive(jsctl, js_account, tmp_path):
    assert jsctl("apply", *SEED, "--yes", env=env(js_account)).returncode == 0
    streams = (REPO / "streams.yaml").read_text().replace("storage: file ", "storage: memory")
    (tmp_path / "streams.yaml").write_text(streams)
    (tmp_path / "consumers.yaml").write_text((REPO / "consumers.yaml").read_text())
    markdown = jsctl("plan", "-f", str(tmp_path), "-o", "markdown", env=env(js_account))
    assert "| `-/+` | `stream/USER_TXN` | replace | the storage type cannot be changed |" in markdown.stdout
    refused = jsctl("apply", "-f", str(tmp_path), "--yes", env=env(js_account))
    assert refused.returncode == 3
    assert refused.stderr.strip().splitlines() == [
        "jsctl: error: destructive changes need --allow-destructive: "
        "replace stream/USER_TXN (the storage type cannot be changed)"]
    done = jsctl("apply", "-f", str(tmp_path), "--yes", "--allow-destructive", env=env(js_account))
    assert done.returncode == 0, done.stderr


def test_prune_deletes_only_what_jsctl_created(jsctl, js_account, tmp_path):
    assert jsctl("apply", *SEED, "--yes", env=env(js_account)).returncode == 0
    seed = (REPO / "consumers.yaml").read_text()
    consumers = seed.split("\n\n  - stream: USER_TXN\n    durable_name: GRP_VALIDATOR")[0]
    (tmp_path / "consumers.yaml").write_text(consumers + "\n")
    files = ["-f", str(REPO / "streams.yaml"), "-f", str(tmp_path / "consumers.yaml")]
    plan = jsctl("plan", *files, "--detailed-exitcode", env=env(js_account))
    assert plan.returncode == 0 and "# consumer/USER_TXN/GRP_VALIDATOR  unmanaged" in plan.stdout
    refused = jsctl("apply", *files, "--yes", "--prune", env=env(js_account))
    assert refused.returncode == 3 and "delete consumer/USER_TXN/GRP_VALIDATOR" in refused.stderr
    assert jsctl("apply", *files, "--yes", "--prune", "--allow-destructive", env=env(js_account)).returncode == 0
    assert "GRP_VALIDATOR" not in jsctl("plan", *files, env=env(js_account)).stdout


def test_field_the_server_lacks_is_a_plan_error(jsctl, js_account, tmp_path):
    (tmp_path / "streams.yaml").write_text("streams:\n  - name: B\n    subjects: [b]\n    allow_batched: true\n")
    done = jsctl("plan", "-f", str(tmp_path / "streams.yaml"), env=env(js_account))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "stream/B: field allow_batched needs nats-server 2.14.0 or newer (connected server: 2.12.8)" in done.stderr


def test_plan_imports_nothing_the_database_needs(js_account):
    code = ("import sys\nfrom reconciler.cli import main\ntry:\n    main(['plan', *sys.argv[1:]])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m in ('sqlalchemy', 'alembic', "
            "'psycopg', 'asyncpg') or m.startswith('reconciler.worker')))")  # nor anything of the worker's
    done = subprocess.run([sys.executable, "-c", code, *SEED], capture_output=True, text=True,
                          env={"NATS_URL": js_account, "PATH": ""}, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
