"""NATS subject rules: valid tokens, wildcard overlap and coverage (as nats-server's sublist does)."""

from __future__ import annotations

_WHITESPACE = frozenset(" \t\r\n\f\v")


def subject_problem(subject: str) -> str | None:
    """Why ``subject`` is not a valid (possibly wildcard) subject, or None when it is."""
    if not subject:
        return "empty subject"
    if _WHITESPACE.intersection(subject):
        return f"subject {subject!r} contains whitespace"
    tokens = subject.split(".")
    for index, token in enumerate(tokens):
        if not token:
            return f"subject {subject!r} has an empty token (leading, trailing or double '.')"
        if token == ">" and index != len(tokens) - 1:
            return f"subject {subject!r}: '>' must be the last token"
        if len(token) > 1 and ("*" in token or ">" in token):
            return f"subject {subject!r}: wildcards '*' and '>' must be whole tokens"
    return None


def has_wildcard(subject: str) -> bool:
    return any(token in ("*", ">") for token in subject.split("."))


def overlaps(a: str, b: str) -> bool:
    """Whether some literal subject matches both patterns."""
    ta, tb = a.split("."), b.split(".")
    for x, y in zip(ta, tb, strict=False):
        if x == ">" or y == ">":
            return True
        if x != y and x != "*" and y != "*":
            return False
    return len(ta) == len(tb)


def covers(pattern: str, subject: str) -> bool:
    """Whether every subject matching ``subject`` also matches ``pattern`` (subject ⊆ pattern)."""
    tp, ts = pattern.split("."), subject.split(".")
    for index, p in enumerate(tp):
        if p == ">":
            return len(ts) > index
        if index >= len(ts):
            return False
        s = ts[index]
        if s == ">" or (p != "*" and (s == "*" or p != s)):
            return False
    return len(tp) == len(ts)
