"""`jsctl validate` as a user runs it: exit codes, every error at once, one line each, no traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


BOMB = "".join(f"x-{level}: &{level} [{', '.join([f'*{level - 1}'] * 9) if level else 'lol'}]\n" for level in range(9))


def test_an_alias_bomb_is_one_located_error(jsctl, tmp_path):
    (tmp_path / "m.yaml").write_text(BOMB + "streams: [{name: A, metadata: {k: *8}}]\n")
    result = jsctl("validate", "-f", "m.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "internal error" not in result.stderr
    assert result.stderr.splitlines()[1].startswith("m.yaml:5:6: x-4: aliases expand this value to more than")


def test_non_string_keys_are_located_errors_not_crashes(jsctl, tmp_path):
    (tmp_path / "m.yaml").write_text("1: x\nstreams:\n  - {name: A, metadata: {yes: c}}\n")
    result = jsctl("validate", "-f", "m.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr.splitlines()[1:]) == (1, [
        "m.yaml:1:1: (document): key 1 must be a string (quote it)",
        "m.yaml:3:26: streams[0].metadata: key yes must be a string (quote it)"])


def test_control_characters_from_the_input_are_never_printed_raw(jsctl, tmp_path):
    (tmp_path / "m.yaml").write_text('streams:\n  - {name: "a\\eb", "x\\e[2J": 1}\n')
    result = jsctl("validate", "-f", "m.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "\x1b" not in result.stderr
    assert "streams[0].x\\x1b[2J: unknown field" in result.stderr
    assert "invalid name 'a\\x1bb': contains a control or invisible character (U+001B)" in result.stderr


def test_a_file_name_with_control_characters_is_escaped_in_the_ok_line(jsctl, tmp_path):
    # an OSC sequence (set the terminal's title) and a bell: click strips only colour codes
    name = "s\x1b]2;owned\x07.yaml"
    (tmp_path / name).write_text("streams: [{name: A, subjects: [a]}]\n")
    result = jsctl("validate", "-f", name, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "ok: 1 stream, 0 consumers in s\\x1b]2;owned\\x07.yaml\n")


def run_bound_by_permissions(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """jsctl subject to file permissions: root reads through chmod 000 unless it drops the capabilities."""
    command = [sys.executable, "-m", "reconciler", *args]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv (util-linux) to drop the file-permission capabilities")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_unreadable_directories_and_files_are_named_with_their_cause(tmp_path):
    locked, secret = tmp_path / "locked", tmp_path / "secret.yaml"
    locked.mkdir()
    (locked / "a.yaml").write_text("{}\n")
    secret.write_text("{}\n")
    locked.chmod(0)
    secret.chmod(0)
    try:
        result = run_bound_by_permissions("validate", "-f", "locked", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (1, "jsctl: error: locked: cannot list the directory: "
                                                         "permission denied\n")
        result = run_bound_by_permissions("validate", "-f", "secret.yaml", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (1, "jsctl: error: secret.yaml: cannot read: permission denied\n")
    finally:
        locked.chmod(0o755)  # for pytest's clean-up


def test_patches_and_variables_through_validate(jsctl, tmp_path):
    (tmp_path / "streams.yaml").write_text("streams:\n  - name: ORDERS\n    subjects: [orders.>]\n")
    (tmp_path / "prod.yaml").write_text("patches:\n  - address: stream/ORDERS\n    set: {max_age: 1y}\n")
    result = jsctl("validate", "-f", "streams.yaml", "-f", "prod.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "ok: 1 stream, 0 consumers in streams.yaml, prod.yaml\n")
    (tmp_path / "prod.yaml").write_text("patches:\n  - address: stream/ORDER\n    set:\n"
                                        "      num_replicas: ${replicas}\n")
    result = jsctl("validate", "-f", "streams.yaml", "-f", "prod.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1:] == [
        "prod.yaml:2:14: patches[0].address: no declared resource has the address 'stream/ORDER' (did you mean "
        "'stream/ORDERS'?)",
        "prod.yaml:4:21: patches[0].set.num_replicas: undefined variable 'replicas' (no variables are defined: set "
        "them in jsctl.yaml or pass --var replicas=VALUE)",
    ]
