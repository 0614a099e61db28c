"""Test helper: what a jsctl user error looks like (one line on stderr, exit 1, no traceback)."""

from __future__ import annotations

import subprocess


def one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Assert ``done`` failed as a user error mentioning every fragment; return the line."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def secrets_absent(done: subprocess.CompletedProcess, *secrets: str) -> None:
    output = done.stdout + done.stderr
    for secret in secrets:
        assert secret not in output, "a secret appears in the output"
