"""`--env` on the commands around the worker (`db`, `publish`, `rejected`, `thresholds`): with NATS_URL and
DATABASE_URL of the dev servers exported (as `eval "$(jsctl dev env)"` does), `--env prod` (or JSCTL_ENV) talks
to prod's nats-server and database, as `plan --env prod` does (tests/test_environments.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import REPO, run_jsctl
from test_environments import project
from test_worker_replay import stream_messages

from tests.worker.harness import create_user_txn, new_database, publish, rejected, run_worker


@dataclass
class Places:
    root: Path  # the project, with jsctl.yaml
    env: dict[str, str]  # the shell: NATS_URL and DATABASE_URL of dev, prod's database password for jsctl.yaml
    dev_url: str
    dev_db: str
    prod_url: str
    prod_db: str

    def jsctl(self, *args: str, **variables: str):
        return run_jsctl(*args, cwd=self.root, env={**self.env, **variables})


@pytest.fixture
def dev_and_prod(user_txn, worker_db, nats_server_factory, postgres, tmp_path) -> Places:
    """dev: the shared nats-server and a database at head, exported as NATS_URL and DATABASE_URL; prod: its own
    nats-server (USER_TXN applied) and an empty database, only in jsctl.yaml."""
    prod = nats_server_factory(server_name="prod-1")
    create_user_txn(prod.url)
    prod_db = new_database(postgres)
    root = project(tmp_path / "shop", {"prod": {"server": prod.url, "database_url": "${env:PROD_DATABASE_URL}",
                                                "migrations": str(REPO / "migrations")}}, {})
    env = {"NATS_URL": user_txn, "DATABASE_URL": worker_db, "JSCTL_DEV_DATABASE_URL": postgres.url(),
           "PROD_DATABASE_URL": prod_db}
    return Places(root, env, user_txn, worker_db, prod.url, prod_db)


def test_db_plan_and_upgrade_work_on_the_environments_database_and_migrations(dev_and_prod):
    places = dev_and_prod
    # dev's database is at head; prod's is empty: its plan has every revision pending
    assert places.jsctl("db", "plan", "--detailed-exitcode", "--migrations", str(REPO / "migrations")).returncode == 0
    planned = places.jsctl("db", "plan", "--env", "prod", "-o", "json", "--detailed-exitcode")
    assert planned.returncode == 2, planned.stderr
    assert {change["action"] for change in json.loads(planned.stdout)["changes"]} == {"upgrade"}
    upgraded = places.jsctl("db", "upgrade", "--allow-destructive", JSCTL_ENV="prod")
    assert upgraded.returncode == 0, upgraded.stderr
    again = places.jsctl("db", "plan", "--env", "prod", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    # db revision reads the environment's migrations (the project has no ./migrations)
    revision = places.jsctl("db", "revision", "-m", "nothing", "--env", "prod")
    assert revision.returncode == 0, revision.stderr
    assert "schema.yaml matches the migrations at head: no revision written" in revision.stdout
    assert places.jsctl("db", "revision", "-m", "nothing").returncode == 1


def test_an_environment_without_a_database_says_where_one_can_be_given(tmp_path):
    root = project(tmp_path / "p", {"staging": {"server": "nats://127.0.0.1:4222"}}, {})
    for command in (["thresholds", "list"], ["rejected", "list"], ["db", "plan"]):
        done = run_jsctl(*command, "--env", "staging", cwd=root)
        assert (done.returncode, done.stderr) == (1, "jsctl: error: no database configured: pass --database-url, "
                                                     "set database_url in environment staging of jsctl.yaml, or "
                                                     "set DATABASE_URL\n")


def test_thresholds_set_import_and_list_the_environments_database(dev_and_prod, tmp_path):
    places = dev_and_prod
    assert places.jsctl("db", "upgrade", "--env", "prod").returncode == 0
    done = places.jsctl("thresholds", "set", "u1", "--max-amount", "5", "--daily-limit", "10", "--env", "prod")
    assert done.returncode == 0, done.stderr
    (places.root / "limits.csv").write_text("user_id,max_amount,daily_limit\nu2,7,70\n")
    assert places.jsctl("thresholds", "import", "limits.csv", "--env", "prod").returncode == 0

    def users(*args: str, **variables: str) -> list[str]:
        listed = places.jsctl("thresholds", "list", "-o", "json", *args, **variables)
        assert listed.returncode == 0, listed.stderr
        return [row["user_id"] for row in json.loads(listed.stdout)["thresholds"]]

    assert users("--env", "prod") == users(JSCTL_ENV="prod") == ["u1", "u2"]
    assert users() == []  # DATABASE_URL: dev's, untouched


def test_publish_lands_in_the_environments_stream(dev_and_prod):
    places = dev_and_prod
    done = places.jsctl("publish", "--count", "3", "--env", "prod")
    assert done.returncode == 0, done.stderr
    assert "published 3," in done.stdout
    assert (stream_messages(places.prod_url), stream_messages(places.dev_url)) == (3, 0)


def test_rejected_list_and_replay_work_on_the_environments_database_and_server(dev_and_prod):
    places = dev_and_prod
    assert places.jsctl("db", "upgrade", "--env", "prod").returncode == 0
    publish(places.prod_url, [b"not json"])
    assert run_worker(places.prod_url, places.prod_db).returncode == 0
    assert len(rejected(places.prod_db)) == 1

    listed = places.jsctl("rejected", "list", "-o", "json", "--env", "prod")
    assert listed.returncode == 0, listed.stderr
    assert [letter["stream_sequence"] for letter in json.loads(listed.stdout)["dead_letters"]] == [1]
    assert json.loads(places.jsctl("rejected", "list", "-o", "json").stdout)["dead_letters"] == []  # dev's

    replayed = places.jsctl("rejected", "replay", "--all", "--env", "prod")
    assert replayed.returncode == 0, replayed.stderr
    assert (stream_messages(places.prod_url), stream_messages(places.dev_url)) == (2, 0)


def test_publish_and_replay_reach_the_leafs_stream_through_the_hub_with_the_environments_domain(
        dev_and_prod, hub_and_leaf):
    """An environment of a leaf node's domain, reached through the hub: its events land in the leaf's stream.
    JetStream publishes go by subject (as natscli's `nats pub`); the domain names the API the worker pulls through."""
    places, leaf = dev_and_prod, hub_and_leaf.leaf.url
    create_user_txn(leaf)
    project(places.root, {"leaf": {"server": hub_and_leaf.hub.url, "js_domain": "leaf",
                                   "database_url": "${env:PROD_DATABASE_URL}"}}, {})
    assert places.jsctl("db", "upgrade", "--env", "leaf", "--migrations", str(REPO / "migrations")).returncode == 0
    done = places.jsctl("publish", "--count", "2", "--env", "leaf")
    assert done.returncode == 0, done.stderr
    publish(leaf, [b"not json"])
    worked = places.jsctl("worker", "--until-idle", "--env", "leaf")
    assert worked.returncode == 0, worked.stderr
    assert len(rejected(places.prod_db)) == 1
    replayed = places.jsctl("rejected", "replay", "--all", "--env", "leaf")
    assert replayed.returncode == 0, replayed.stderr
    # 2 events, their 2 verdicts, the bad one and its replay
    assert (stream_messages(leaf), stream_messages(places.dev_url)) == (6, 0)
