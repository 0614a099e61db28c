"""A KV bucket's ``entries:``: the keys jsctl keeps at a declared value (jetstream/entries.py writes them).

```yaml
entries:
  feature.checkout: "on"               # KEY: text
  limits/daily: 500                    # an integer is written as its decimal text
  api.token: {value: "...", sensitive: true}     # never shown in any output
  rules.json: {value_file: rules.json}           # the file's bytes, relative to this manifest
```

Keys follow the NATS clients' rules (kvnames.py). A value is text: YAML's unquoted ``on``/``off``/
``yes``/``no`` are booleans, refused with a hint to quote them, as are floats (their text is not
what was written). A mirror bucket takes no entries: its keys are written to its origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import keep_secret
from .item import Item
from .kvnames import key_problem
from .load import Path_, Problem
from .model import DeclaredEntry

ENTRIES = "entries"
FIELDS = ("value", "value_file", "sensitive")
NOT_TEXT = "a value is text: quote it (YAML reads on, off, yes and no as booleans)"


def declared_entries(item: Item, problems: list[Problem]) -> list[DeclaredEntry]:
    """The entries of a KV bucket ``item``, each value read; every problem located and appended."""
    raw = item.config.get(ENTRIES)
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append(item.problem((ENTRIES,), "a mapping of key: value"))
        return []
    if raw and item.config.get("mirror"):
        problems.append(item.problem((ENTRIES,), "a mirror bucket's keys are written to its origin: declare the "
                                                 "entries on the origin bucket"))
        return []
    manifest = Path(item.document.file)
    found = []
    for key, value in raw.items():
        problem = key_problem(str(key))
        if problem:
            problems.append(item.problem((ENTRIES, key), problem, key=True))
            continue
        located = [item.problem((ENTRIES, key, *where), message) for where, message in _entry_problems(value)]
        read = None if located else _read(value, manifest, located, item, key)
        problems += located
        if read is not None:
            sensitive = isinstance(value, dict) and value.get("sensitive") is True
            if sensitive:  # scrubbed from every error jsctl prints and refused in saved plans
                keep_secret(read.decode(errors="replace"))
            line, column = item.document.mark((*item.path, ENTRIES, key))
            found.append(DeclaredEntry(str(item.config.get("bucket", "")), key, read, sensitive,
                                       f"{item.document.file}:{line}:{column}"))
    return found


def value_files(item: Item) -> list[str]:
    """The files the entries of ``item`` read their values from (a saved plan digests them)."""
    base = Path(item.document.file).parent
    raw = item.config.get(ENTRIES)
    return [str(base / value["value_file"]) for value in (raw.values() if isinstance(raw, dict) else ())
            if isinstance(value, dict) and isinstance(value.get("value_file"), str)]


def _entry_problems(value: Any) -> list[tuple[Path_, str]]:
    """What is wrong with one entry as written, each ``(path below the key, message)``."""
    if not isinstance(value, dict):
        return [] if _is_text(value) else [((), NOT_TEXT)]
    found: list[tuple[Path_, str]] = [((name,), f"unknown field (an entry has {', '.join(FIELDS)})")
                                      for name in value if name not in FIELDS]
    if not isinstance(value.get("sensitive", False), bool):
        found.append((("sensitive",), "true or false"))
    if ("value" in value) == ("value_file" in value):
        found.append(((), "give either value or value_file"))
    elif "value" in value and not _is_text(value["value"]):
        found.append((("value",), NOT_TEXT))
    elif "value_file" in value and not (isinstance(value["value_file"], str) and value["value_file"]):
        found.append((("value_file",), "a file path, relative to this manifest"))
    return found


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _read(value: Any, manifest: Path, problems: list[Problem], item: Item, key: str) -> bytes | None:
    """The value's bytes: its text, or the content of its value_file (a problem when it cannot be read)."""
    if not isinstance(value, dict):
        return str(value).encode()
    if "value" in value:
        return str(value["value"]).encode()
    path = manifest.parent / value["value_file"]
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.append(item.problem((ENTRIES, key, "value_file"), f"cannot read {path}: {exc.strerror or exc}"))
        return None
