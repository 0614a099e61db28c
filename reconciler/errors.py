"""The error types every layer raises and the CLI turns into one line on stderr.

Exit codes are part of the contract (README, "Exit codes"): they live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable

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


class DriftRemains(JsctlError):
    """Apply did all it had to, but the database differs from what its migrations make: drift, which
    jsctl never corrects (exit 1, as any failed verification). ``done`` says what apply did meanwhile."""

    def __init__(self, differences: str, *, upgraded: bool, done: str = ""):
        self.done = done
        what = ("after the upgrade the database still differs from what its migrations make (drift no revision "
                "corrects)" if upgraded else "the database differs from what its migrations make (drift)")
        super().__init__(f"{what}: {differences}; jsctl never corrects drift: undo it by hand, or write a revision "
                         "that covers it")


class ManifestError(UserError):
    """Invalid manifests: every problem found, one ``file:line:column: field.path: message`` line each."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        count = f"{len(lines)} error{'s' if len(lines) != 1 else ''}"
        super().__init__(f"invalid manifests ({count}):\n" + "\n".join(lines))


# Secrets seen by this process (passwords, tokens, seeds, credentials in URLs): whatever jsctl
# prints as an error passes through scrub(), so none of them can leak through a message that
# forgot to redact, a library's exception text or a --debug traceback.
_SECRETS: set[str] = set()


_SHORTEST_SCRUBBED = 4  # shorter values would erase letters from every message


def keep_secret(*values: str | None) -> None:
    """Register values that must never be printed."""
    _SECRETS.update(value for value in values if value and len(value) >= _SHORTEST_SCRUBBED)


def redact(text: str, secrets: list[str]) -> str:
    """Replace every secret in ``text`` (longest first) with ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= _SHORTEST_SCRUBBED}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def scrub(text: str) -> str:
    """``text`` without any secret registered with keep_secret()."""
    return redact(text, list(_SECRETS))


def holds_secret(text: str, encoded: Callable[[str], str] | None = None) -> bool:
    """Whether scrub() would change ``text``, without rewriting it; with ``encoded``, also whether ``text``
    holds a secret as ``encoded`` writes it (escaped in JSON, say)."""
    return any(secret in text or (encoded is not None and encoded(secret) in text) for secret in _SECRETS)
