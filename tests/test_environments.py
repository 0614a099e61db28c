"""Environments of jsctl.yaml through the real `jsctl` on real servers: one set of manifests, each
environment with its own connection and variables (--env, --all-envs), and the precedence of the
connection settings (flag > environment > NATS_* > natscli context)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path

import nats
import pytest
import yaml
from support import run_jsctl

# Two accounts on one server, each with JetStream, a user each: two environments of one project.
ACCOUNTS = """
accounts {
  TEAM_A { jetstream: enabled, users: [{user: a, password: a-secret-pw}] }
  TEAM_B { jetstream: enabled, users: [{user: b, password: b-secret-pw}] }
}
"""
SECRETS = {"A_PASSWORD": "a-secret-pw", "B_PASSWORD": "b-secret-pw"}
DAY_NS = 86_400 * 10**9  # nats-py gives max_age in nanoseconds
# One set of manifests; the environments differ in their variables.
STREAMS = """streams:
  - name: ORDERS
    subjects: [orders.>]
    num_replicas: ${replicas}
    max_age: ${retention}
    max_msgs: ${max_msgs}
"""
CONSUMERS = """consumers:
  - stream: ORDERS
    durable_name: SHIPPING
    ack_policy: explicit
    max_ack_pending: ${max_ack_pending}
"""


def project(root: Path, environments: dict, files: dict[str, str] | None = None) -> Path:
    """A checkout: jsctl.yaml with ``environments``, and the manifests (``files``: name -> text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "jsctl.yaml").write_text(yaml.safe_dump({"project": "shop", "environments": environments},
                                                    sort_keys=False))
    for name, text in ({"streams.yaml": STREAMS, "consumers.yaml": CONSUMERS} if files is None else files).items():
        (root / name).write_text(text)
    return root


def account_env(url: str, user: str, **variables) -> dict:
    return {"server": url, "user": user, "password": f"${{env:{user.upper()}_PASSWORD}}",
            "variables": {"replicas": 1, "max_ack_pending": 10, **variables}}


def stream_and_consumer(url: str, user: str, password: str) -> tuple[dict, dict]:
    """ORDERS and ORDERS/SHIPPING as nats-py reads them in the account of ``user``."""
    async def read() -> tuple[dict, dict]:
        nc = await nats.connect(url, user=user, password=password)
        try:
            js = nc.jetstream()
            return ((await js.stream_info("ORDERS")).config.as_dict(),
                    (await js.consumer_info("ORDERS", "SHIPPING")).config.as_dict())
        finally:
            await nc.close()

    return asyncio.run(read())


@pytest.fixture
def two_accounts(nats_server_factory, tmp_path) -> tuple[str, Path]:
    """A server with accounts TEAM_A and TEAM_B, and a project whose environments a and b are those accounts
    with different retention, limits and consumer settings."""
    server = nats_server_factory(ACCOUNTS, server_name="edge-1")
    root = project(tmp_path / "shop", {
        "a": account_env(server.url, "a", retention="1d", max_msgs=1000, max_ack_pending=10),
        "b": account_env(server.url, "b", retention="30d", max_msgs=5000, max_ack_pending=20),
    })
    return server.url, root


def jsctl(root: Path, *args: str, env: dict[str, str] | None = None):
    return run_jsctl(*args, cwd=root, env={**SECRETS, **(env or {})})


def pad_to_processes(root: Path) -> None:
    """Make the manifests large enough (a comment) for `plan --all-envs` to plan each environment in a process
    of its own (reconcile/environments.py); smaller ones are planned on one event loop."""
    from reconciler.reconcile.environments import PROCESSES_FROM_BYTES

    with (root / "streams.yaml").open("a") as streams:
        streams.write(f"# {'x' * PROCESSES_FROM_BYTES}\n")


@pytest.mark.parametrize("processes", [False, True], ids=["one-loop", "processes"])
def test_all_envs_plans_and_applies_each_account_with_its_variables(two_accounts, processes):
    url, root = two_accounts
    if processes:
        pad_to_processes(root)
    planned = jsctl(root, "plan", "--all-envs", "-o", "json", "--detailed-exitcode")
    assert planned.returncode == 2, planned.stderr
    sections = json.loads(planned.stdout)
    assert sections["format_version"] == 1
    assert [section["name"] for section in sections["environments"]] == ["a", "b"]
    for section, account in zip(sections["environments"], ("TEAM_A", "TEAM_B"), strict=True):
        plan = section["plan"]
        assert plan["context"]["nats"]["account"] == account
        assert {(c["address"], c["action"]) for c in plan["changes"]} == {
            ("stream/ORDERS", "create"), ("consumer/ORDERS/SHIPPING", "create")}
    assert "secret" not in planned.stdout + planned.stderr

    applied = jsctl(root, "apply", "--all-envs", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "Environments applied: a, b." in applied.stdout
    for user, days, max_msgs, max_ack_pending in (("a", 1, 1000, 10), ("b", 30, 5000, 20)):
        stream, consumer = stream_and_consumer(url, user, SECRETS[f"{user.upper()}_PASSWORD"])
        assert (stream["max_age"], stream["max_msgs"], stream["num_replicas"]) == (days * DAY_NS, max_msgs, 1)
        assert consumer["max_ack_pending"] == max_ack_pending

    again = jsctl(root, "plan", "--all-envs", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("=== environment ") == 2
    # the other commands that connect take the environment's connection too
    exported = jsctl(root, "export", "--env", "b", "--stdout")
    assert exported.returncode == 0, exported.stderr
    assert "account TEAM_B" in exported.stdout and "max_msgs: 5000" in exported.stdout
    checked = jsctl(root, "check", "--env", "a", "-o", "json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["status"] == "OK"


def test_saved_plans_of_all_environments_each_apply_to_its_own_only(two_accounts):
    url, root = two_accounts
    saved = jsctl(root, "plan", "--all-envs", "--out", "plans")
    assert saved.returncode == 0, saved.stderr
    assert sorted(path.name for path in (root / "plans").iterdir()) == ["a.plan.json", "b.plan.json"]
    refused = jsctl(root, "apply", "plans/a.plan.json", "--env", "b")
    assert refused.returncode == 3
    assert "the saved plan was made for environment a, this is environment b" in refused.stderr
    applied = jsctl(root, "apply", "plans/a.plan.json", "--env", "a")
    assert applied.returncode == 0, applied.stderr
    assert stream_and_consumer(url, "a", "a-secret-pw")[0]["max_msgs"] == 1000
    directory = jsctl(root, "plan", "--env", "a", "--out", "plans")
    assert directory.returncode == 1 and "plans is a directory (one is for --all-envs)" in directory.stderr


def test_one_environment_with_env_or_jsctl_env_and_var_overrides(two_accounts):
    url, root = two_accounts
    applied = jsctl(root, "apply", "--env", "b", "--yes", "--var", "max_msgs=7")
    assert applied.returncode == 0, applied.stderr
    stream, _ = stream_and_consumer(url, "b", "b-secret-pw")
    assert (stream["max_msgs"], stream["max_age"]) == (7, 30 * DAY_NS)
    # the other account is untouched; JSCTL_ENV chooses as --env does
    planned = jsctl(root, "plan", "-o", "json", env={"JSCTL_ENV": "a"})
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["context"]["nats"]["account"] == "TEAM_A"
    assert len(json.loads(planned.stdout)["changes"]) == 2


def test_variables_keep_their_yaml_type_through_the_cli(two_accounts):
    _, root = two_accounts
    assert jsctl(root, "validate", "--env", "a").returncode == 0
    every = jsctl(root, "validate", "--all-envs")
    assert every.returncode == 0, every.stderr
    assert [line.split(":")[0] for line in every.stdout.splitlines()] == ["a", "b"]
    quoted = jsctl(root, "validate", "--env", "a", "--var", "max_msgs='5'")  # the text 5, not a number
    assert quoted.returncode == 1
    assert "streams.yaml:6:15: streams[0].max_msgs: expected an integer, got a string" in quoted.stderr
    typed = jsctl(root, "plan", "--env", "a", "--var", "max_msgs=5", "-o", "json")
    assert typed.returncode == 0, typed.stderr
    create = next(c for c in json.loads(typed.stdout)["changes"] if c["address"] == "stream/ORDERS")
    assert "max_msgs" in json.dumps(create)


def test_undefined_variables_are_located(two_accounts):
    _, root = two_accounts
    (root / "streams.yaml").write_text(STREAMS.replace("${max_msgs}", "${max_mgs}"))
    done = jsctl(root, "plan", "--all-envs")
    assert done.returncode == 1
    assert done.stdout.count("streams.yaml:6:15: streams[0].max_msgs: undefined variable 'max_mgs' (did you mean "
                             "'max_msgs'?") == 2  # in each environment's section
    assert "  a: failed (exit 1)" in done.stdout and "  b: failed (exit 1)" in done.stdout
    no_password = run_jsctl("plan", "--env", "a", cwd=root)  # A_PASSWORD not set at all
    assert no_password.returncode == 1
    assert "jsctl.yaml:6:15: environments.a.password: environment variable A_PASSWORD is not set" \
           in no_password.stderr


def test_a_literal_secret_in_jsctl_yaml_is_refused(tmp_path):
    root = project(tmp_path / "p", {"prod": {"server": "nats://127.0.0.1:4222", "password": "hunter2-secret"}})
    done = run_jsctl("plan", "--env", "prod", cwd=root)
    assert done.returncode == 1
    assert ("jsctl.yaml:5:15: environments.prod.password: a literal password in the project file: write it as "
            "${env:NAME} and set NAME where jsctl runs") in done.stderr
    assert "hunter2" not in done.stderr
    url = project(tmp_path / "q", {"prod": {"database_url": "postgresql://app:pw-in-file@127.0.0.1/app"}})
    done = run_jsctl("validate", cwd=url)
    assert done.returncode == 1
    assert "jsctl.yaml:4:19: environments.prod.database_url: a password or token written in database_url" \
        in done.stderr
    assert "pw-in-file" not in done.stderr


def test_unknown_environment_lists_the_names_and_all_envs_refuses_env(two_accounts):
    _, root = two_accounts
    done = jsctl(root, "plan", "--env", "prdo")
    assert done.returncode == 1
    assert done.stderr.strip() == "jsctl: error: no environment 'prdo' in jsctl.yaml: a, b"
    both = jsctl(root, "plan", "--all-envs", "--env", "a")
    assert both.returncode == 1
    assert "--all-envs works on every environment: leave out --env" in both.stderr
    exported = jsctl(root, "export", "--env", "nope", "--stdout")
    assert "no environment 'nope' in jsctl.yaml: a, b" in exported.stderr


def test_env_plans_against_its_server_after_dev_env_exports(nats_server_factory, tmp_path):
    """After `eval "$(jsctl dev env)"` (NATS_URL, NATS_NKEY, DATABASE_URL of the dev servers), --env prod plans
    against prod's server; without --env, the variables decide as before; a flag beats the environment."""
    dev = nats_server_factory(server_name="dev-1")
    prod = nats_server_factory(ACCOUNTS, server_name="prod-1")
    root = project(tmp_path / "p", {
        "prod": {"server": prod.url, "user": "b", "password": "${env:B_PASSWORD}",
                 "variables": {"replicas": 1, "retention": "1y", "max_msgs": 1, "max_ack_pending": 1}},
    })
    dev_env = {"NATS_URL": dev.url, "NATS_NKEY": str(tmp_path / "dev-user.seed"),  # not there: a leak would fail
               "DATABASE_URL": "postgresql://dev@127.0.0.1:1/dev", **SECRETS}

    def server_of(*args: str, env: dict[str, str]) -> str:
        done = run_jsctl("plan", "-o", "json", "--only", "jetstream", *args, cwd=root, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["context"]["nats"]["server_name"]

    assert server_of("--env", "prod", env=dev_env) == "prod-1"
    no_nkey = {key: value for key, value in dev_env.items() if key != "NATS_NKEY"}
    variables = ["--var", "replicas=1", "--var", "retention=1d", "--var", "max_msgs=1", "--var", "max_ack_pending=1"]
    assert server_of(*variables, env=no_nkey) == "dev-1"
    assert server_of("--env", "prod", "--server", dev.url, env=dev_env) == "dev-1"  # no auth there: ignored


def test_apply_all_envs_stops_at_the_first_failure_and_says_which_were_applied(nats_server_factory, tmp_path):
    from reconciler.dev.servers import free_ports, loopback_nats_url

    server = nats_server_factory(ACCOUNTS)
    nobody = loopback_nats_url(free_ports(1)[0])  # nothing listens there
    root = project(tmp_path / "p", {
        "a": account_env(server.url, "a", retention="1d", max_msgs=1),
        "gone": account_env(nobody, "b", retention="1d", max_msgs=1),
        "b": account_env(server.url, "b", retention="1d", max_msgs=1),
    })
    done = jsctl(root, "apply", "--all-envs", "--yes")
    assert done.returncode == 1
    assert "jsctl: environments applied: a; failed: gone; not applied: b" in done.stderr
    assert stream_and_consumer(server.url, "a", "a-secret-pw")[0]["max_msgs"] == 1
    with pytest.raises(nats.js.errors.NotFoundError):
        stream_and_consumer(server.url, "b", "b-secret-pw")


@pytest.fixture
def hub_and_leaf(tmp_path_factory):
    from leafnodes import start_hub_and_leaf

    pair = start_hub_and_leaf(tmp_path_factory.mktemp("domains"))
    yield pair
    pair.stop()


def test_environments_in_two_jetstream_domains_through_one_server(hub_and_leaf, tmp_path):
    """The leaf's environment reaches its JetStream through the hub with js_domain; each environment has its own
    files: the leaf a stream, the hub a stream that sources it across the domain."""
    hub = hub_and_leaf.hub
    root = project(tmp_path / "p", {
        "leaf": {"server": hub.url, "js_domain": "leaf", "files": ["leaf.yaml"]},
        "hub": {"server": hub.url, "files": ["hub.yaml"]},
    }, {"leaf.yaml": "streams: [{name: EDGE, subjects: [edge.>]}]\n",
        "hub.yaml": "streams: [{name: CENTRAL, subjects: [central.>], "
                    "sources: [{name: EDGE, external: {api: $JS.leaf.API}}]}]\n"})
    applied = run_jsctl("apply", "--all-envs", "--yes", cwd=root)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    async def has(url: str, stream: str) -> bool:
        nc = await nats.connect(url)
        try:
            await nc.jetstream().stream_info(stream)
            return True
        except nats.js.errors.NotFoundError:
            return False
        finally:
            await nc.close()

    leaf_url = hub_and_leaf.leaf.url
    assert asyncio.run(has(leaf_url, "EDGE")) and not asyncio.run(has(leaf_url, "CENTRAL"))
    assert asyncio.run(has(hub.url, "CENTRAL")) and not asyncio.run(has(hub.url, "EDGE"))
    planned = run_jsctl("plan", "--all-envs", "--detailed-exitcode", cwd=root)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    bad = project(tmp_path / "q", {"x": {"server": hub.url, "js_domain": "a.b"}}, {"streams.yaml": "streams: []\n"})
    refused = run_jsctl("plan", "--env", "x", cwd=bad)
    assert refused.returncode == 1
    assert "jsctl.yaml:5:16: environments.x.js_domain: invalid JetStream domain 'a.b': must not contain '.', '*' or " \
        "'>'" in refused.stderr


def processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is ``directory`` (a planning child left behind would be one)."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == directory.resolve():
                found.append(int(proc.name))
    return found


@pytest.mark.parametrize("processes", [False, True], ids=["one-loop", "processes"])
def test_timeout_ends_every_environments_planning_process(two_accounts, tmp_path, processes):
    """Each environment is planned in a process of its own: --timeout ends the run with one error and none of
    them outlives it (one environment's server accepts connections and never says a word)."""
    import socket

    url, _ = two_accounts
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        root = project(tmp_path / "p", {
            "a": account_env(url, "a", retention="1d", max_msgs=1),
            "mute": account_env(f"nats://127.0.0.1:{silent.getsockname()[1]}", "b", retention="1d", max_msgs=1),
        })
        if processes:
            pad_to_processes(root)
        done = jsctl(root, "plan", "--all-envs", "--timeout", "2s")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("jsctl: error: gave up after 2s"), done.stderr
    assert processes_in(root) == []


@pytest.mark.parametrize("processes", [False, True], ids=["one-loop", "processes"])
def test_environments_with_the_same_files_and_variables_read_their_manifests_once(two_accounts, monkeypatch,
                                                                                  processes):
    """a and b (two accounts) have the same files and variables: their manifests are read once and both are
    planned from them; a2 (account a, other variables) is planned from its own."""
    import reconciler.manifest
    from reconciler.jetstream.settings import NatsSettings
    from reconciler.reconcile.environments import plan_environments
    from reconciler.reconcile.target import Target

    url, root = two_accounts
    if processes:
        pad_to_processes(root)
    reads: list[dict] = []  # in this process: a child's reads would not show here, only the parent's
    load_desired = reconciler.manifest.load_desired

    def counted(paths, variables=None):
        reads.append(dict(variables or {}))
        return load_desired(paths, variables)

    monkeypatch.setattr(reconciler.manifest, "load_desired", counted)
    files = (str(root / "streams.yaml"), str(root / "consumers.yaml"))
    same = {"replicas": 1, "retention": "1d", "max_msgs": 1000, "max_ack_pending": 10}

    def target(name: str, user: str, **variables) -> Target:
        return Target(NatsSettings(url=url, user=user, password=SECRETS[f"{user.upper()}_PASSWORD"]), files,
                      environment=name, variables={**same, **variables})

    results = plan_environments([target("a", "a"), target("b", "b"), target("a2", "a", max_msgs=5000)], saving=False)
    assert reads.count(same) == 1
    max_msgs = [{str(c.address): c.desired["max_msgs"] for c in plan.changes if c.desired and "max_msgs" in c.desired}
                for plan, _ in results]
    assert max_msgs == [{"stream/ORDERS": 1000}, {"stream/ORDERS": 1000}, {"stream/ORDERS": 5000}]
