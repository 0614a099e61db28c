"""The error types every layer raises and the CLI turns into one line on stderr.

Exit codes are part of the contract (README, "Exit codes"): they live here and nowhere else.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode: changes or drift
EXIT_REFUSED = 3  # apply refused: destructive change, stale saved plan, lock held


class JsctlError(Exception):
    """A failure the user can act on: printed as one line, no traceback (unless --debug)."""

    exit_code = EXIT_ERROR


class UserError(JsctlError):
    """Bad input: flags, files, manifests."""


class ConnectionFailed(JsctlError):
    """A server could not be reached or refused us."""


class Refused(JsctlError):
    """jsctl declines to go on without an explicit decision from the user."""

    exit_code = EXIT_REFUSED


class ManifestError(UserError):
    """Invalid manifests: every problem found, one ``file:line:column: field.path: message`` line each."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        count = f"{len(lines)} error{'s' if len(lines) != 1 else ''}"
        super().__init__(f"invalid manifests ({count}):\n" + "\n".join(lines))
