"""Read manifest files into plain Python values, remembering where every key and value was written.

PyYAML's C loader does the parsing; its constructor is taught two things: unquoted timestamps stay
the strings the JetStream API expects, and a key written twice in one mapping is reported (PyYAML
silently keeps the last). The YAML node tree is kept, so the line:column of any path is found on
demand, when a message needs it, at no cost for the values nobody asks about.

Values are built from the node tree by :func:`_construct_plain`, a direct walk for plain documents
(mappings, lists and the standard scalars) about 4x faster than PyYAML's generator-based
constructor; anything else (merge keys, sets, custom tags, recursive anchors) is left to PyYAML's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml: slower, same result
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

DEFAULT_FILES = ("streams.yaml", "consumers.yaml")
MANIFEST_SUFFIXES = (".yaml", ".yml")

Path_ = tuple[str | int, ...]  # a path inside a document: ("streams", 0, "max_age")

_MERGE, _STR = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Problem:
    """One error in the manifests, printed as ``file:line:column: field.path: message``."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: Path_
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {format_path(self.path)}: {self.message}"


def format_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


@dataclass
class Document:
    """One YAML file's content, and its node tree for the line:column (1-based) of any path."""

    file: str
    value: Any = None
    root: yaml.Node | None = None

    def mark(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Where ``path`` was written (its key when ``key``), else its nearest written parent."""
        node, key_node = self.root, None
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
        else:
            node = key_node if key and key_node is not None else node
        if node is None:
            return (1, 1)
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        line, column = self.mark(path, key=key)
        return Problem(self.file, line, column, path, message)


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node, value node) of ``part`` in a mapping or sequence node."""
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    if isinstance(node, yaml.MappingNode):
        # Merged pairs come first after PyYAML flattens `<<`; the last match is the value that was kept.
        matches = [(k, v) for k, v in node.value
                   if isinstance(k, yaml.ScalarNode) and _ManifestLoader.scalar(k) == part]
        return matches[-1] if matches else None
    return None


def manifest_files(paths: list[Path]) -> list[Path]:
    """The files named by ``-f`` (a file, or a directory of *.yaml/*.yml), or the default files."""
    if not paths:
        found = [Path(name) for name in DEFAULT_FILES if Path(name).is_file()]
        if not found:
            raise UserError(f"no manifests: none of {', '.join(DEFAULT_FILES)} in {Path.cwd()} (use -f PATH)")
        return found
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())
            if not inside:
                raise UserError(f"{path}: directory holds no *.yaml or *.yml file")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"{path}: no such file or directory")
    # The same file given twice (e.g. a file and its directory) is read once.
    unique = {file.resolve(): file for file in reversed(files)}
    return [file for file in files if unique[file.resolve()] is file]


def read_document(path: Path, problems: list[Problem]) -> Document:
    """Parse one file; syntax errors and duplicate keys are appended to ``problems``."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{name}: cannot read: {exc}") from None
    return parse_document(text, name, problems)


def parse_document(text: str, file: str, problems: list[Problem]) -> Document:
    document = Document(file)
    loader = _ManifestLoader(text)
    try:
        document.value = _construct(loader, loader.get_single_node())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(file, line, column, (), f"invalid YAML: {exc.problem or exc}"))
        return document
    except yaml.YAMLError as exc:
        problems.append(Problem(file, 1, 1, (), f"invalid YAML: {exc}"))
        return document
    finally:
        loader.dispose()
    document.root = loader.root
    if loader.duplicates:
        paths = _mapping_paths(loader.root, {id(mapping) for mapping, _, _ in loader.duplicates})
        for mapping, first, again in loader.duplicates:
            key = loader.scalar(again)
            problems.append(Problem(file, again.start_mark.line + 1, again.start_mark.column + 1,
                                    (*paths[id(mapping)], key),
                                    f"duplicate key {key!r} (first written on line {first.start_mark.line + 1})"))
    return document


class _ManifestLoader(_BaseLoader):
    """PyYAML's safe loader, keeping timestamps as text and noting keys written twice."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.root: yaml.Node | None = None
        self.duplicates: list[tuple[yaml.MappingNode, yaml.Node, yaml.Node]] = []  # (mapping, first, again)
        self._checked: set[int] = set()
        self._tags: dict[tuple, str] = {}

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        """The tag of a node, remembered: manifests repeat the same keys and values thousands of times.
        (Safe loaders have no path resolvers, so the tag depends on these arguments alone.)"""
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

    def note_duplicates(self, node: yaml.MappingNode) -> None:
        if id(node) in self._checked:  # an aliased mapping is constructed once per use
            return
        self._checked.add(id(node))
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                first = seen.setdefault((key_node.tag, key_node.value), key_node)
                if first is not key_node:
                    self.duplicates.append((node, first, key_node))

    @staticmethod
    def scalar(node: yaml.ScalarNode) -> Any:
        construct = _ManifestLoader.yaml_constructors.get(node.tag)
        return construct(_SCALAR_CONSTRUCTOR, node) if construct and node.tag != _STR else node.value

    def construct_document(self, node: yaml.Node) -> Any:
        self.root = node
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.note_duplicates(node)
        return super().construct_mapping(node, deep=deep)


_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)
_SCALAR_CONSTRUCTOR = _ManifestLoader("")
_SEQ, _MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
# Scalar tags whose PyYAML constructors are plain functions of one node (the others are generators).
_PLAIN_SCALARS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp")}


class _Unusual(Exception):
    """The document needs PyYAML's own constructor."""


def _construct(loader: _ManifestLoader, root: yaml.Node | None) -> Any:
    """The document's value: built directly when it is plain, else by PyYAML's constructor."""
    if root is None:
        return None
    try:
        return _construct_plain(loader, root)
    except (_Unusual, RecursionError):
        loader.duplicates.clear()
        loader._checked.clear()
        return loader.construct_document(root)
    finally:
        loader.root = root


def _construct_plain(loader: _ManifestLoader, root: yaml.Node) -> Any:
    """What PyYAML's constructor builds from ``root``, for mappings with scalar keys and no merge keys,
    lists and the standard scalars; raises _Unusual for anything else. An aliased node is built once
    and shared, as PyYAML does; a key written twice is noted only when the mapping came out shorter."""
    scalars = loader.yaml_constructors
    built: dict[int, Any] = {}
    building: set[int] = set()
    scalar_node, sequence_node, mapping_node = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode

    def build(node: yaml.Node) -> Any:
        kind, tag = type(node), node.tag
        if kind is scalar_node:
            if tag == _STR:
                return node.value
            if tag in _PLAIN_SCALARS:
                return scalars[tag](loader, node)
            raise _Unusual
        if id(node) in built:
            return built[id(node)]
        if id(node) in building:
            raise _Unusual  # a recursive anchor
        building.add(id(node))
        if kind is sequence_node and tag == _SEQ:
            value: Any = [build(item) for item in node.value]
        elif kind is mapping_node and tag == _MAP:
            value = {}
            for key_node, value_node in node.value:
                if type(key_node) is not scalar_node or key_node.tag == _MERGE:
                    raise _Unusual
                value[build(key_node)] = build(value_node)
            if len(value) < len(node.value):
                loader.note_duplicates(node)
        else:
            raise _Unusual
        building.discard(id(node))
        built[id(node)] = value
        return value

    return build(root)


def _mapping_paths(root: yaml.Node | None, wanted: set[int]) -> dict[int, Path_]:
    """The document path of each mapping node in ``wanted`` (by identity), in one depth-first walk."""
    found: dict[int, Path_] = {}
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())] if root is not None else []
    seen: set[int] = set()
    while stack and len(found) < len(wanted):
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            if id(node) in wanted:
                found[id(node)] = path
            children = [(value, (*path, _ManifestLoader.scalar(key))) for key, value in node.value
                        if isinstance(key, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, (*path, index)) for index, item in enumerate(node.value)]
        else:
            continue
        stack.extend(reversed(children))  # in document order: an alias's path is where its anchor was written
    return found
