"""Rules of key-value buckets and object stores (``key_value:``, ``object_stores:``), and the hint that moves
a raw ``KV_NAME`` / ``OBJ_NAME`` stream to them.

Rules see specs after unit conversion. A bucket's stream-like fields (description, metadata, placement,
republish) follow the stream rules of :mod:`.checks`; what is a bucket's own: names (kvnames.py), the
mirror and sources (bucket names; a mirror holds no entries of its own: clients write to its origin; an
object store takes sources only),
limit markers, and ``entries`` (keys, ``value``/``value_file``, read here so a plan needs no file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checks import Config, Report, reporter, stream_placement, stream_transforms, text_rules, unique_items
from .item import Item
from .kvnames import KV_PREFIX, OBJ_PREFIX, key_problem
from .load import Problem
from .model import KV, OBJ, STREAM

MS = 1_000_000
SECOND = 1_000 * MS
MAX_VALUE_FILE_BYTES = 64 << 20  # nats-server's largest max_payload: no value can be longer
_WORDS = {KV: "key-value bucket", OBJ: "object store"}
_SECTIONS = {KV: "key_value", OBJ: "object_stores"}


def check_buckets(items: list[Item], problems: list[Problem]) -> None:
    """Every bucket rule; a checked bucket's spec is brought to its canonical form in place
    (``compression: s2`` or none; ``entries`` as key -> {value, sensitive[, value_file]})."""
    streams = {item.name: item for item in items if item.kind == STREAM and isinstance(item.name, str)}
    for kind, prefix in ((KV, KV_PREFIX), (OBJ, OBJ_PREFIX)):
        for item in unique_items(items, kind, lambda item: item.name, _WORDS[kind], problems).values():
            stream = streams.get(prefix + item.name)
            if stream is not None:
                problems.append(stream.problem(("name",), f"stream {stream.name!r} is the backing stream of "
                                                          f"{_WORDS[kind]} {item.name!r} ({item.origin}): "
                                                          "declare it once, as the bucket"))
            if item.checked:
                _check_bucket(item, reporter(item, problems))


def _check_bucket(item: Item, report: Report) -> None:
    config = item.config
    text_rules(config, report)
    stream_placement(config, report)
    ttl = config.get("ttl", 0)
    if 0 < ttl < 100 * MS:
        report(("ttl",), "ttl must be 0 (kept forever) or at least 100ms")
    compression = config.pop("compression", None)
    if compression in (True, "s2"):
        config["compression"] = "s2"
    _origin_rules(item.kind, item.name, config, report)
    if item.kind == KV:
        _kv_rules(item.name, config, report)
        if "entries" in config:
            config["entries"] = _entries(item, config, report)


def _kv_rules(bucket: str, config: Config, report: Report) -> None:
    marker_ttl = config.get("limit_marker_ttl", 0)
    if 0 < marker_ttl < SECOND:
        report(("limit_marker_ttl",), "limit_marker_ttl must be at least 1s")
    if config.get("republish"):  # the stream rules, on the subjects the bucket's stream has
        stream_transforms({"republish": config["republish"], "subjects": [f"$KV.{bucket}.>"]}, report)
    mirror = config.get("mirror")
    if mirror:
        for field, why in (("limit_marker_ttl", "a mirror cannot have limit markers (the server refuses them)"),
                           ("entries", "a mirror cannot hold entries: clients write a mirror's keys to its "
                                       f"origin {mirror!r}; declare them there")):
            if config.get(field):
                report((field,), why)


def _origin_rules(kind: str, bucket: str, config: Config, report: Report) -> None:
    """A bucket's mirror and sources: other buckets of its kind, each once."""
    mirror = config.get("mirror")
    if mirror and kind == OBJ:
        report(("mirror",), "an object store cannot be a mirror: no client reads one (nats-py finds an object's "
                            "chunks by subject, and a mirror stream has none); declare sources: instead")
    elif mirror == bucket:
        report(("mirror",), "a bucket cannot mirror itself")
    if mirror and config.get("sources"):
        report(("sources",), "a mirror cannot have sources")
    seen: set[str] = set()
    for index, source in enumerate(config.get("sources") or []):
        if source == bucket:
            report(("sources", index), "a bucket cannot source itself")
        elif source in seen:
            report(("sources", index), f"duplicate source {source!r}")
        seen.add(source)


def _entries(item: Item, config: Config, report: Report) -> dict[str, dict[str, Any]]:
    """The declared entries as key -> {value, sensitive[, value_file]}; a problem with any is reported."""
    entries: dict[str, dict[str, Any]] = {}
    max_size = config.get("max_value_size", -1)
    for key, written in (config.get("entries") or {}).items():
        at = ("entries", key)
        problem = key_problem(key)
        if problem:
            report(at, problem)
            continue
        entry = {"value": written, "sensitive": False} if isinstance(written, str) else _entry(item, at, written,
                                                                                                report)
        if entry is None:
            continue
        try:
            size = len(entry["value"].encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: YAML's pure-Python reader lets "\ud800" through
            report(at, "the value is not text: it holds a lone UTF-16 surrogate")
            continue
        if 0 < max_size < size:
            report(at, f"the value is {size} bytes, over the bucket's max_value_size of {max_size}")
            continue
        entries[key] = entry
    return entries


def _entry(item: Item, at: tuple, written: dict[str, Any], report: Report) -> dict[str, Any] | None:
    entry: dict[str, Any] = {"sensitive": written.get("sensitive", False)}
    if ("value" in written) == ("value_file" in written):
        report(at, "write either value or value_file")
        return None
    if "value" in written:
        return {**entry, "value": written["value"]}
    path = Path(item.document.file).parent / written["value_file"]
    text, problem = _read_value(path)
    if problem:
        report((*at, "value_file"), f"{written['value_file']!r}: {problem}")
        return None
    return {**entry, "value": text, "value_file": str(path)}


def _read_value(path: Path) -> tuple[str, str | None]:
    """The text of a value file, or why it cannot be a value."""
    try:
        if not path.is_file():
            return "", "not a regular file" if path.exists() else "no such file"
        if path.stat().st_size > MAX_VALUE_FILE_BYTES:
            return "", f"larger than {MAX_VALUE_FILE_BYTES >> 20}MiB, the largest value a server accepts"
        return path.read_bytes().decode("utf-8"), None
    except OSError as exc:
        return "", f"cannot read: {(exc.strerror or str(exc)).lower()}"
    except UnicodeDecodeError as exc:
        return "", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"


def raw_bucket_hints(items: list[Item]) -> list[Problem]:
    """A stream declared as a bucket's backing stream (``KV_NAME`` with subjects ``$KV.NAME.>``, ``OBJ_NAME``
    with the object store's): the hint to declare it as the bucket it is."""
    hints = []
    for item in items:
        if item.kind != STREAM or not item.checked or not isinstance(item.name, str):
            continue
        for kind, prefix, subjects in ((KV, KV_PREFIX, ["$KV.{}.>"]), (OBJ, OBJ_PREFIX, ["$O.{}.C.>", "$O.{}.M.>"])):
            bucket = item.name[len(prefix):]
            if item.name.startswith(prefix) and \
                    sorted(item.config.get("subjects") or []) == [subject.format(bucket) for subject in subjects]:
                hints.append(item.problem(("name",), f"hint: stream {item.name!r} is {_WORDS[kind]} {bucket!r}: "
                                                     f"declare it under {_SECTIONS[kind]}: as bucket: {bucket}"))
    return hints
