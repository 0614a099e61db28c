"""YAML loading that remembers where each value came from, for ``file:line:column`` messages.

Small on purpose: the manifest loader (reconciler/manifest/load.py) solves the same problem for
streams.yaml; when both exist they should become one module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """Plain data (dicts, lists, scalars) plus the position of every node, keyed by its path."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # path -> (line, column), 1-based
    duplicates: list[tuple[Path_, str]] = field(default_factory=list)  # (mapping path, duplicated key)

    def where(self, path: Path_) -> str:
        """``file:line:column`` of the deepest known node on ``path``."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                line, column = self.positions[path[:end]]
                return f"{self.file}:{line}:{column}"
        return f"{self.file}:1:1"


def dotted(path: Path_) -> str:
    """``("tables", 0, "columns", 2)`` -> ``tables[0].columns[2]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def load_located(path: Path) -> Located:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_cls)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise UserError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    located = Located(str(path), None)
    located.data = _convert(node, (), located) if node is not None else None
    return located


def _convert(node: yaml.Node, path: Path_, located: Located) -> Any:
    located.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            key = key if isinstance(key, str) else str(key)
            if key in out:
                located.duplicates.append((path, key))
            out[key] = _convert(value_node, (*path, key), located)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), located) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """The value of a scalar node, with its tag resolved as the safe loader does (ints, bools, nulls)."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
