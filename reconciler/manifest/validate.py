"""From parsed manifest documents to :class:`Desired`, collecting every problem on the way.

Order: ``patches:`` applied (:mod:`.patches`), then document shape and JSON Schema (types, enums,
unknown fields), then units (durations and sizes to integers) and the range of each integer's Go type
(:mod:`.gotypes`), then the semantic checks of :mod:`.checks` on the items whose values passed the first
steps (an unknown field is set aside, the rest of its item is still checked). Every problem is kept, so
one run shows them all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..errors import keep_secret
from .bucket_checks import check_buckets, raw_bucket_hints
from .checks import check_items
from .gotypes import range_problems
from .item import Item
from .load import Document, Path_, Problem
from .model import CONSUMER, KV, OBJ, STREAM, DeclaredEntry, DeclaredResource, Desired
from .patches import apply_patches
from .schema import SECTIONS, TOP_LEVEL, schema_errors, unit_table
from .suggest import did_you_mean
from .units import convert_units

SERVER_METADATA_PREFIX = "_nats."  # keys the server adds to metadata (version, API level)


def validate_documents(documents: list[Document], problems: list[Problem]) -> Desired:
    """The declared resources of ``documents``; appends every problem found to ``problems``."""
    apply_patches(documents, problems)
    items: list[Item] = []
    for document in documents:
        items.extend(_document_items(document, problems))
    check_items(items, problems)
    check_buckets(items, problems)
    desired = Desired(files=[document.file for document in documents],
                      hints=[str(hint) for hint in raw_bucket_hints(items)])
    by_name = {STREAM: desired.streams, KV: desired.key_value, OBJ: desired.object_stores}
    for item in items:
        if not item.checked:
            continue  # has errors already, and maybe no usable name
        config = {key: value for key, value in item.config.items() if key != "stream"}
        resource = DeclaredResource(item.kind, item.name, config, item.origin,
                                    item.config.get("stream") if item.kind == CONSUMER else None)
        if item.kind == CONSUMER:
            desired.consumers.setdefault((resource.stream, resource.name), resource)
        elif by_name[item.kind].setdefault(resource.name, resource) is resource and item.kind == KV:
            _add_entries(desired, item)  # the bucket declared first: a duplicate is an error, its entries unread
    return desired


def _add_entries(desired: Desired, item: Item) -> None:
    """A checked KV bucket's declared keys (bucket_checks.py read them) as DeclaredEntry, the files their
    values come from (a saved plan digests them), and each sensitive value kept secret (errors.scrub)."""
    for key, entry in (item.config.get("entries") or {}).items():
        line, column = item.document.mark((*item.path, "entries", key))
        desired.entries[(item.name, key)] = DeclaredEntry(item.name, key, entry["value"].encode(), entry["sensitive"],
                                                          f"{item.document.file}:{line}:{column}")
        if entry["sensitive"]:
            keep_secret(entry["value"])
        if "value_file" in entry:
            desired.files.append(entry["value_file"])


def _document_items(document: Document, problems: list[Problem]) -> list[Item]:
    value = document.value
    if value is None:
        return []  # an empty file declares nothing
    if not isinstance(value, dict):
        problems.append(document.problem((), "expected a mapping with `streams:`, `consumers:`, `key_value:`, "
                                             "`object_stores:` and/or `patches:`"))
        return []
    rejected: set[Path_] = set()  # items with wrong values: named, but not checked further
    unknown: dict[Path_, set[str]] = defaultdict(set)  # an unknown field leaves the rest of its item checkable
    for path, message, at_key in schema_errors(value):
        if len(path) == 1 and path[0] not in TOP_LEVEL:
            message = f"unknown top-level key {path[0]!r}{did_you_mean(str(path[0]), list(TOP_LEVEL))}"
        problems.append(document.problem(path, message, key=at_key))
        if at_key and len(path) == 3:
            unknown[path[:2]].add(path[2])
        else:
            rejected.add(path[:2])
    items: list[Item] = []
    for section, kind in SECTIONS.items():
        entries = value.get(section)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            known = {key: value for key, value in entry.items() if key not in unknown[(section, index)]}
            item = Item(kind, document, (section, index), _without_server_metadata(known))
            item.checked = (section, index) not in rejected
            if item.checked:
                found = convert_units(item.config, unit_table()[kind])
                found = found or range_problems(item.config, kind)  # on integers only: units converted
                for field, message in found:
                    problems.append(item.problem(field, message))
                    item.checked = False
            items.append(item)
    return items


def _without_server_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """A pasted ``nats stream info --json`` config carries the server's ``_nats.*`` metadata: drop it."""
    metadata = config.get("metadata")
    if not isinstance(metadata, dict) or not any(str(key).startswith(SERVER_METADATA_PREFIX) for key in metadata):
        return config
    kept = {key: value for key, value in metadata.items() if not str(key).startswith(SERVER_METADATA_PREFIX)}
    trimmed = {key: value for key, value in config.items() if key != "metadata"}
    return {**trimmed, "metadata": kept} if kept else trimmed
