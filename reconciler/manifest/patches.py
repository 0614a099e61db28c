"""Overlays: a manifest's top-level ``patches:`` changes resources declared in any file (docs/manifests.md,
"Variables and overlays").

Each item is ``{address: stream/ORDERS, set: {...}}``: after every file is read, in file order then list
order, ``set`` is merged into the declared resource with that plan address, before anything about the
resource is checked: a mapping merges into the mapping it replaces, key by key (into an empty one when
there is none); a list or any other value replaces; ``null`` removes the key. The fields of the address
cannot be set (the address would no longer name the resource).

Every value a patch writes is remembered with where the patch wrote it (``Document.patched``), so what
later checks find wrong with it points at the patch; other problems of a patched resource name its patches.
"""

from __future__ import annotations

from typing import Any

from ..plan.address import Address
from .item import Item
from .load import Document, Path_, Problem
from .model import CONSUMER
from .schema import PATCHES, SECTIONS
from .suggest import did_you_mean

IDENTITY = {CONSUMER: ("stream", "durable_name", "name")}  # a consumer's address fields; other kinds: their name


def apply_patches(documents: list[Document], problems: list[Problem]) -> None:
    """Apply every well-formed patch of ``documents`` (the schema reports the others) to the documents'
    values; a patch naming no declared resource, or setting a field of the address, is a problem."""
    patches = [(document, index, patch) for document in documents
               for index, patch in enumerate(_patch_list(document)) if _well_formed(patch)]
    if not patches:
        return
    declared = _declared(documents)
    for document, index, patch in patches:
        item = declared.get(patch["address"])
        if item is None:
            problems.append(document.problem((PATCHES, index, "address"), _unknown(patch["address"], declared)))
            continue
        fixed = [name for name in IDENTITY.get(item.kind, (item.name_field,)) if name in patch["set"]]
        for name in fixed:
            problems.append(document.problem((PATCHES, index, "set", name), f"a patch cannot set {name!r}: it is "
                                             f"part of the address {patch['address']}", key=True))
        if not fixed:
            _apply(item, patch["set"], document, (PATCHES, index))


def _well_formed(patch: Any) -> bool:
    return isinstance(patch, dict) and isinstance(patch.get("address"), str) and isinstance(patch.get("set"), dict)


def _patch_list(document: Document) -> list[Any]:
    patches = document.value.get(PATCHES) if isinstance(document.value, dict) else None
    return patches if isinstance(patches, list) else []


def _declared(documents: list[Document]) -> dict[str, Item]:
    """Every declared resource by address, the first one where a name is declared twice (validation
    reports the second)."""
    declared: dict[str, Item] = {}
    for document in documents:
        if not isinstance(document.value, dict):
            continue
        for section, kind in SECTIONS.items():
            entries = document.value.get(section)
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                item = Item(kind, document, (section, index), entry) if isinstance(entry, dict) else None
                address = item.address if item else None
                if address is not None:
                    declared.setdefault(address, item)
    return declared


def _unknown(text: str, declared: dict[str, Item]) -> str:
    prefixes = sorted(SECTIONS.values())
    if Address(text).kind.prefix not in prefixes:
        return (f"{text!r} is no address a patch can name: {' or '.join(f'{p}/...' for p in prefixes)} "
                f"(e.g. stream/ORDERS, consumer/ORDERS/NAME)")
    return f"no declared resource has the address {text!r}{did_you_mean(text, list(declared))}"


def _apply(item: Item, changes: dict[str, Any], document: Document, at: Path_) -> None:
    """Merge ``changes`` (written at ``at`` in ``document``) into ``item``'s config, in its document."""
    target = item.document
    written: list[Path_] = []
    item.config = merge(item.config, changes, written)
    target.value[item.path[0]][item.path[1]] = item.config
    for field in written:
        target.patched[(*item.path, *field)] = (document, (*at, "set", *field))
    line, column = document.mark(at)
    target.patched_items.setdefault(item.path, []).append(f"{document.file}:{line}:{column}")


def merge(base: dict[str, Any], changes: dict[str, Any], written: list[Path_] | None = None,
          at: Path_ = ()) -> dict[str, Any]:
    """``base`` with ``changes`` merged in (a new mapping; neither is modified): a mapping merges into
    the mapping at its key (into an empty one when there is none), key by key; a list or any other value
    replaces; None removes the key. ``written`` gets the path of each key replaced or removed (the same
    in the result and in ``changes``)."""
    merged = dict(base)
    for key, value in changes.items():
        path = (*at, key)
        if isinstance(value, dict):
            inner = merged.get(key)
            if not isinstance(inner, dict) and written is not None:
                written.append(path)  # a new mapping: all of it is the patch's
            merged[key] = merge(inner if isinstance(inner, dict) else {}, value, written, path)
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
        if written is not None:
            written.append(path)
    return merged
