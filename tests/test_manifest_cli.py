"""`jsctl validate` as a user runs it: exit codes, every error at once, one line each, no traceback."""

from __future__ import annotations

import json
import re

BAD_STREAMS = """streams:
  - name: ORDERS
    subjects: [orders.*]
    max_age: 1 year
    retention: workqeue
  - name: ORDERS
    subjects: [orders.new]
"""
BAD_CONSUMERS = """consumers:
  - stream: ORDER
    durable_name: C1
    ack_policy: explicit
    ack_policy: none
  - stream: ORDERS
    durable_name: C2
    backoff: [1s, 5s, 30s]
    max_deliver: 2
"""
LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+):(?P<column>\d+): (?P<path>[^:]+): (?P<message>.+)$")


def test_the_repo_manifests_are_valid(jsctl):
    result = jsctl("validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: 1 stream, 2 consumers in streams.yaml, consumers.yaml\n"


def test_every_error_at_once(jsctl, tmp_path):
    (tmp_path / "streams.yaml").write_text(BAD_STREAMS)
    (tmp_path / "consumers.yaml").write_text(BAD_CONSUMERS)
    result = jsctl("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    header, *lines = result.stderr.splitlines()
    assert header == "jsctl: error: invalid manifests (6 errors):"
    assert all(LINE.match(line) for line in lines), lines
    assert [line.split(": ", 2)[:2] for line in lines] == [
        ["streams.yaml:4:14", "streams[0].max_age"],
        ["streams.yaml:5:16", "streams[0].retention"],
        ["streams.yaml:6:11", "streams[1].name"],
        ["consumers.yaml:2:13", "consumers[0].stream"],
        ["consumers.yaml:5:5", "consumers[0].ack_policy"],
        ["consumers.yaml:8:14", "consumers[1].backoff"],
    ]
    assert "did you mean 'ORDERS'?" in lines[3]
    assert "duplicate key 'ack_policy'" in lines[4]


def test_files_and_directories_with_f(jsctl, tmp_path):
    (tmp_path / "a.yaml").write_text("streams: [{name: A, subjects: [a]}]\n")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "b.yml").write_text("consumers: [{stream: A, durable_name: C}]\n")
    result = jsctl("validate", "-f", "a.yaml", "-f", "more", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: 1 stream, 1 consumer in a.yaml, more/b.yml\n"


def test_missing_manifests_are_one_line(jsctl, tmp_path):
    result = jsctl("validate", "-f", "nope.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "jsctl: error: nope.yaml: no such file or directory\n")
    result = jsctl("validate", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("jsctl: error: no manifests:")


def test_print_schema_for_editors(jsctl, tmp_path):
    result = jsctl("validate", "--print-schema", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["$defs"]["stream"]["properties"]["max_age"]["$ref"] == "#/$defs/duration"
