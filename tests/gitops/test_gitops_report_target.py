"""The Prometheus report and the Markdown plan name their target (server, account), on a real server with two
accounts: two drift checks on one host give series that do not collide, and a reviewer sees where a plan
applies, why each update is made, no ownership metadata as a change, and the unmanaged in one block."""

from __future__ import annotations

import asyncio

import yaml
from prometheus_client.parser import text_string_to_metric_families

from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

ACCOUNTS = """
accounts {
  TEAM_A { jetstream: enabled, users: [{user: a, password: a-secret-pw}] }
  TEAM_B { jetstream: enabled, users: [{user: b, password: b-secret-pw}] }
}
"""
DAY = 86_400 * 10**9


def create_by_hand(url: str, user: str, password: str, streams: list[dict]) -> None:
    async def run() -> None:
        nc = await connect_nats(NatsSettings(url=url, user=user, password=password))
        try:
            for config in streams:
                await JetStreamApi(nc).request(f"STREAM.CREATE.{config['name']}", config)
        finally:
            await nc.close()

    asyncio.run(run())


def series(text: str) -> list[tuple[str, tuple]]:
    return [(s.name, tuple(sorted(s.labels.items()))) for f in text_string_to_metric_families(text) for s in f.samples]


def test_two_accounts_on_one_server_report_apart(nats_server_factory, jsctl, tmp_path):
    server = nats_server_factory(ACCOUNTS, server_name="edge-1")
    (tmp_path / "streams.yaml").write_text(yaml.safe_dump({"streams": [{"name": "ORDERS", "subjects": ["o.>"]}]}))
    reports = []
    for user in ("a", "b"):
        run = jsctl("plan", "-o", "prometheus", "--server", server.url, "--user", user, "--password",
                    f"{user}-secret-pw", cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert "secret" not in run.stdout
        reports.append(run.stdout)
    found = [series(report) for report in reports]
    for team, got in zip(("TEAM_A", "TEAM_B"), found, strict=True):
        assert all(("server", "edge-1") in labels and ("account", team) in labels for _, labels in got), got
    # node_exporter's text-file collector reads both files as one: no series twice
    merged = series(reports[0]) + series(reports[1])
    assert len(merged) == len(set(merged))


def test_markdown_names_the_target_says_why_and_keeps_the_unmanaged_together(nats_server_factory, jsctl, tmp_path):
    server = nats_server_factory(ACCOUNTS, server_name="edge-1")
    login = ["--server", server.url, "--user", "a", "--password", "a-secret-pw"]
    create_by_hand(server.url, "a", "a-secret-pw", [
        {"name": "ORDERS", "subjects": ["o.>"], "max_age": 7 * DAY},  # declared below with another max_age
        {"name": "AUDIT", "subjects": ["audit.>"]},  # declared as it is: adopted
        *({"name": f"SCRATCH_{i}", "subjects": [f"s{i}.>"]} for i in range(3))])  # nobody declares these
    (tmp_path / "streams.yaml").write_text(yaml.safe_dump({"streams": [
        {"name": "ORDERS", "subjects": ["o.>"], "max_age": "1d"},
        {"name": "AUDIT", "subjects": ["audit.>"]},
        {"name": "NEW", "subjects": ["n.>"]}]}))
    run = jsctl("plan", "-o", "markdown", *login, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    lines = text.splitlines()
    assert lines[2].startswith("**Target:** NATS server <code>edge-1</code> (nats-server ")
    assert lines[2].endswith(", account <code>TEAM_A</code>")
    rows = {line.split(" | ")[1]: line for line in lines if line.startswith("| `")}
    assert rows["`stream/ORDERS`"] == ('| `~` | `stream/ORDERS` | update | max_age "7d" → "1d"; not created by jsctl: '
                                       'this apply also marks it as managed |')
    assert "exists but was not created by jsctl" in rows["`stream/AUDIT`"]
    assert "io.jsctl" not in text  # the ownership mark is neither a field change nor part of a create
    assert set(rows) == {"`stream/ORDERS`", "`stream/AUDIT`", "`stream/NEW`"}
    assert text.count("<details>") == 4 and "<details><summary>3 unmanaged resources" in text
    assert "- not in the manifests: left alone: `stream/SCRATCH_0`, `stream/SCRATCH_1`, `stream/SCRATCH_2`" in text
