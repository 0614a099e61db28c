"""Read manifest files into plain Python values, remembering where every key and value was written.

PyYAML's C composer gives node marks quickly; the values are then built here (not by PyYAML's
constructor) so that duplicate mapping keys are reported instead of silently keeping the last,
and unquoted timestamps stay the strings the JetStream API expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # PyYAML built without libyaml: slower, same result
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DEFAULT_FILES = ("streams.yaml", "consumers.yaml")
MANIFEST_SUFFIXES = (".yaml", ".yml")

Path_ = tuple[str | int, ...]  # a path inside a document: ("streams", 0, "max_age")

_TAG = "tag:yaml.org,2002:"
_constructor = yaml.constructor.SafeConstructor()
# Scalars whose YAML meaning is kept; every other tag (timestamps, binary, ...) stays the written text.
_SCALARS = {
    _TAG + "str": lambda node: node.value,
    _TAG + "int": _constructor.construct_yaml_int,
    _TAG + "bool": _constructor.construct_yaml_bool,
    _TAG + "float": _constructor.construct_yaml_float,
    _TAG + "null": lambda node: None,
}


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
    """One YAML file's content with the line:column (1-based) of every value and of every mapping key."""

    file: str
    value: Any = None
    value_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def mark(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Where ``path`` was written (its key when ``key``), else the nearest enclosing node."""
        marks = self.key_marks if key else self.value_marks
        while path:
            if path in marks:
                return marks[path]
            if path in self.value_marks:
                return self.value_marks[path]
            path = path[:-1]
        return self.value_marks.get((), (1, 1))

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        line, column = self.mark(path, key=key)
        return Problem(self.file, line, column, path, message)


def manifest_files(paths: list[Path]) -> list[Path]:
    """The files named by ``-f`` (a file, or a directory of *.yaml/*.yml), or the default files."""
    from ..errors import UserError

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
    from ..errors import UserError

    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{name}: cannot read: {exc}") from None
    return parse_document(text, name, problems)


def parse_document(text: str, file: str, problems: list[Problem]) -> Document:
    document = Document(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(file, line, column, (), f"invalid YAML: {exc.problem or exc}"))
        return document
    except yaml.YAMLError as exc:  # e.g. more than one document in the file
        problems.append(Problem(file, 1, 1, (), f"invalid YAML: {exc}"))
        return document
    if node is not None:
        document.value = _Builder(document, problems).build(node, ())
    return document


def _scalar(node: yaml.ScalarNode) -> Any:
    return _SCALARS.get(node.tag, _SCALARS[_TAG + "str"])(node)


class _Builder:
    def __init__(self, document: Document, problems: list[Problem]):
        self.document, self.problems = document, problems
        self.active: set[int] = set()  # nodes being built: a recursive alias would never end

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.document.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if id(node) in self.active:
            self.problems.append(self.document.problem(path, "recursive YAML alias"))
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            return self.build_mapping(node, path)
        finally:
            self.active.discard(id(node))

    def build_mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merges.append(value_node)
                continue
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(self.document.file, *key_mark, path, "a mapping key must be plain text"))
                continue
            key = _scalar(key_node)
            child = (*path, key)
            if key in result:
                first_line = self.document.key_marks[child][0]
                self.problems.append(Problem(self.document.file, *key_mark, child,
                                             f"duplicate key {key!r} (first written on line {first_line})"))
                continue
            self.document.key_marks[child] = key_mark
            result[key] = self.build(value_node, child)
        for value_node in merges:
            self.merge(value_node, path, result)
        return result

    def merge(self, value_node: yaml.Node, path: Path_, result: dict[Any, Any]) -> None:
        """``<<: *anchor`` (or a list of them): keys written explicitly win, then earlier anchors."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        scratch = _Builder(Document(self.document.file), self.problems)
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.problems.append(self.document.problem(path, "a merge key `<<` takes a mapping or a list of them"))
                continue
            for key, value in scratch.build_mapping(source, path).items():
                if key in result:
                    continue
                result[key] = value
                # The merged value keeps the marks of where the anchor wrote it.
                prefix = (*path, key)
                for own, theirs in ((self.document.key_marks, scratch.document.key_marks),
                                    (self.document.value_marks, scratch.document.value_marks)):
                    own.update({p: m for p, m in theirs.items() if p[:len(prefix)] == prefix})
