"""NATS subject and name rules: valid tokens and characters, wildcard overlap and coverage (as nats-server's
sublist does), and :class:`SubjectIndex`, which finds overlapping subjects without comparing every pair."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Generic, TypeVar

MAX_NAME_BYTES = 255  # nats-server's JSMaxNameLen, counted in UTF-8 bytes
_NAME_FORBIDDEN = ".*>/\\"  # isValidAssetName: names are tokens of API subjects and directory names
# Unicode categories refused in names and subjects: control, format (zero-width, bidi overrides),
# surrogate, line and paragraph separators. They are invisible or reorder text in every output.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def character_problem(text: str, *, spaces: bool = False) -> str | None:
    """Why ``text`` cannot be a name or subject because of one of its characters, or None. ``spaces``
    lets spaces (not tabs or line breaks) through: subject transforms allow them in mapping functions.

    nats-server itself refuses only ASCII whitespace (and NUL, when creating the stream's store);
    the other characters refused here are accepted by it but unreadable in every plan and log."""
    if text.isprintable() and (spaces or " " not in text):  # the common case, in C
        return None
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() and not (spaces and category == "Zs"):
            return f"contains whitespace ({_codepoint(char)})"
        if category in _HIDDEN_CATEGORIES:
            return f"contains a control or invisible character ({_codepoint(char)})"
    return None


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a stream or consumer, or None (nats-server's isValidAssetName and JSMaxNameLen)."""
    if not name:
        return "must not be empty"
    problem = character_problem(name)
    if problem:
        return f"invalid name {name!r}: {problem}"
    if any(char in _NAME_FORBIDDEN for char in name):
        return f"invalid name {name!r}: names are used in API subjects and must not contain '.', '*', '>', '/' or '\\'"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"name is longer than the server's limit of {MAX_NAME_BYTES} bytes (UTF-8)"
    return None


def subject_problem(subject: str) -> str | None:
    """Why ``subject`` is not a valid (possibly wildcard) subject, or None when it is."""
    if not subject:
        return "empty subject"
    problem = character_problem(subject)
    if problem:
        return f"subject {subject!r} {problem}"
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


T = TypeVar("T")


@dataclass(eq=False)
class _Node:
    first: int  # the order of the first subject added through this node: the earliest below it
    children: dict[str, _Node] = field(default_factory=dict)
    ends: int | None = None  # the order of the first subject that ends here


class SubjectIndex(Generic[T]):
    """Valid subjects, each with a value, in a trie of their tokens.

    :meth:`first_overlap` answers what comparing with :func:`overlaps` against every subject added
    would, in time that grows with the tokens of the subject asked about and the wildcard branches it
    meets, not with the number of subjects held (10,000s, in one stream or across streams).
    """

    def __init__(self) -> None:
        self._root = _Node(first=0)
        self._added: list[tuple[str, T]] = []

    def add(self, subject: str, value: T) -> None:
        """Hold ``subject`` (valid: see :func:`subject_problem`) with ``value``."""
        order = len(self._added)
        self._added.append((subject, value))
        node = self._root
        for token in subject.split("."):
            child = node.children.get(token)
            if child is None:
                child = node.children[token] = _Node(first=order)
            node = child
        if node.ends is None:
            node.ends = order

    def first_overlap(self, subject: str) -> tuple[str, T] | None:
        """The earliest added (subject, value) whose subject overlaps ``subject`` (valid), or None.

        Iterative, as subjects may have 1,000s of tokens; a branch holding nothing earlier than the
        best found so far is skipped."""
        tokens = subject.split(".")
        best = len(self._added)
        stack = [(self._root, 0)]
        while stack:
            node, index = stack.pop()
            if node.first >= best:
                continue
            if index == len(tokens):
                if node.ends is not None:
                    best = min(best, node.ends)
                continue
            token = tokens[index]
            if token == ">":  # overlaps every held subject with at least one more token
                best = min([best, *(child.first for child in node.children.values())])
                continue
            tail = node.children.get(">")
            if tail is not None:  # a held '>' overlaps whatever the rest is
                best = min(best, tail.first)
            if token == "*":
                stack.extend((child, index + 1) for child_token, child in node.children.items() if child_token != ">")
            else:
                literal, star = node.children.get(token), node.children.get("*")
                stack.extend((child, index + 1) for child in (literal, star) if child is not None)
        return self._added[best] if best < len(self._added) else None
