"""Field-level differences of two normalized configs (deepdiff, only for resources that differ)."""

from __future__ import annotations

from typing import Any

from ..plan.model import FieldChange


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Field-level differences of two normalized configs; lists are compared whole."""
    from deepdiff import DeepDiff

    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if not all(isinstance(v, dict) or v is None for v in (old, new)):
            changes.append(FieldChange(key, old, new))
            continue
        old, new = old or {}, new or {}  # an absent map is an empty one: diff its keys
        paths = set()
        for items in DeepDiff(old, new, view="tree").values():
            for item in items:
                path = []
                for part in item.path(output_format="list"):
                    if isinstance(part, int):
                        break
                    path.append(part)
                paths.add(tuple(path))
        for path in sorted(paths):
            changes.append(FieldChange(".".join((key, *path)), _dig(old, path), _dig(new, path)))
    return changes


def _dig(value: Any, path: tuple) -> Any:
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
