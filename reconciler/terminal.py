"""Text for a terminal. Whatever jsctl prints as text (plans, `validate`, `check`, messages) shows each
character that came from input as itself or escaped, as repr() does, so no name, file name or server
reply can move the cursor, recolour the screen, ring the bell or hide and reorder part of a line
(live names may hold any of them: other clients create them). JSON output needs none of this: its
encoder escapes control characters by itself."""

from __future__ import annotations

from collections.abc import Iterable


def printable(text: str) -> str:
    """``text`` with each character a terminal would not show as itself escaped, as repr() does
    (``\\x1b``, ``\\n``, ``\\u200b``)."""
    if text.isprintable():  # the common case, in C
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


def printable_lines(lines: Iterable[str]) -> str:
    """``lines`` made printable each (a line break inside one is escaped too), one per line."""
    return "\n".join(map(printable, lines))


def printable_text(text: str) -> str:
    """A message of one or more lines (``invalid manifests (2 errors):`` and its lines) made printable
    line by line: its line breaks are its own, every other character is escaped as needed."""
    return printable_lines(text.split("\n"))
