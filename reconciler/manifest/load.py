"""Read manifest files into plain Python values, remembering where every key and value was written.

PyYAML's C loader does the parsing; its constructor is taught two things: unquoted timestamps stay
the strings the JetStream API expects, and a key written twice in one mapping is reported (PyYAML
silently keeps the last). The YAML node tree is kept, so the line:column of any path is found on
demand, when a message needs it, at no cost for the values nobody asks about.

Before any value is built, :func:`_shape_problems` checks that the node graph is a JSON document of
a sane size: string keys, no tags beyond JSON's types, no alias expanding into itself, no alias bomb
(a few hundred bytes of nested aliases that expand to billions of nodes), no absurd nesting.

Values are built from the node tree by :func:`_construct_plain`, a direct walk for plain documents
(mappings, lists and the standard scalars) about 4x faster than PyYAML's generator-based
constructor; documents with merge keys (``<<``) are left to PyYAML's.

Variables (``${name}``, variables.py) are substituted in the node tree, before the shape check, when the
caller passes them and the text holds ``${`` at all: a file without one costs a substring search.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..terminal import printable
from .limits import ALIAS_EXPANSION, MAX_DEPTH, MIN_WRITTEN

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml: slower, same result
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

DEFAULT_FILES = ("streams.yaml", "consumers.yaml", "buckets.yaml")
MANIFEST_SUFFIXES = (".yaml", ".yml")

Path_ = tuple[str | int, ...]  # a path inside a document: ("streams", 0, "max_age")

_MERGE, _STR = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"
_SEQ, _MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
# Scalar tags whose PyYAML constructors are plain functions of one node (str is the node's text).
_PLAIN_SCALARS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")}
_KEY_TAGS = {_STR, _MERGE, "tag:yaml.org,2002:timestamp"}  # keys that are text once built



@dataclass(frozen=True)
class Problem:
    """One error in the manifests, printed as ``file:line:column: field.path: message``."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: Path_
    message: str
    # A bad ${...}: where its value starts (line, column); other messages about that value are left out.
    value_at: tuple[int, int] | None = None

    def __str__(self) -> str:
        return printable(f"{self.file}:{self.line}:{self.column}: {format_path(self.path)}: {self.message}")


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
    # Paths a patch wrote -> (the patch's document, its path there); items patched -> where (patches.py).
    patched: dict[Path_, tuple[Document, Path_]] = field(default_factory=dict)
    patched_items: dict[Path_, list[str]] = field(default_factory=dict)

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
        """A problem at ``path``; at the patch's value instead when a patch wrote it (or a parent of it),
        else noting the patches of its item."""
        if self.patched:
            for length in range(len(path), 0, -1):
                written = self.patched.get(path[:length])
                if written is not None:
                    document, at = written
                    return document.problem((*at, *path[length:]), message, key=key)
            for length in range(len(path), 0, -1):
                if path[:length] in self.patched_items:
                    message += f" (patched at {', '.join(self.patched_items[path[:length]])})"
                    break
        line, column = self.mark(path, key=key)
        return Problem(self.file, line, column, path, message)


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node, value node) of ``part`` in a mapping or sequence node."""
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    if isinstance(node, yaml.MappingNode):
        # Merged pairs come first after PyYAML flattens `<<`; the last match is the value that was kept.
        matches = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part]
        return matches[-1] if matches else None
    return None


def manifest_files(paths: list[Path]) -> list[Path]:
    """The files named by ``-f`` (a file, or a directory of *.yaml/*.yml), or the default files.

    Each must be a regular file (through symbolic links): a broken or looping link, a device such as
    /dev/zero or a pipe is refused with its cause, never skipped."""
    if not paths:
        found = [Path(name) for name in DEFAULT_FILES if os.path.lexists(name)]
        if not found:
            raise UserError(f"no manifests: none of {', '.join(DEFAULT_FILES)} in {Path.cwd()} (use -f PATH)")
        return [regular_file(path) for path in found]
    files: list[Path] = []
    for path in paths:
        if not stat.S_ISDIR(_stat(path).st_mode):
            files.append(regular_file(path))
            continue
        try:
            inside = sorted(entry for entry in path.iterdir() if entry.suffix in MANIFEST_SUFFIXES)
        except OSError as exc:
            raise UserError(f"{printable(str(path))}: cannot list the directory: {_cause(exc)}") from None
        if not inside:
            raise UserError(f"{printable(str(path))}: directory holds no *.yaml or *.yml file")
        files.extend(regular_file(entry) for entry in inside)
    # The same file given twice (e.g. a file and its directory) is read once.
    unique = {file.resolve(): file for file in reversed(files)}
    return [file for file in files if unique[file.resolve()] is file]


_FILE_KINDS = {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device", stat.S_ISFIFO: "a pipe",
               stat.S_ISSOCK: "a socket", stat.S_ISDIR: "a directory"}


def regular_file(path: Path) -> Path:
    mode = _stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS.items() if test(mode)), "a special file")
        raise UserError(f"{printable(str(path))}: is {kind}, not a regular file (manifests are read from files)")
    return path


def _stat(path: Path) -> os.stat_result:
    """``path``'s status through symbolic links; what keeps it from being read, as a UserError."""
    try:
        return path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise UserError(f"{printable(str(path))}: broken symbolic link (to {printable(os.readlink(path))}, "
                            "which does not exist)") from None
        raise UserError(f"{printable(str(path))}: no such file or directory") from None
    except OSError as exc:
        raise UserError(f"{printable(str(path))}: {_cause(exc)}") from None


def _cause(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    return (exc.strerror or str(exc)).lower()


def read_document(path: Path, problems: list[Problem], variables: Mapping[str, Any] | None = None) -> Document:
    """Parse one file; syntax errors and duplicate keys are appended to ``problems``. With ``variables``
    (a mapping, maybe empty), ``${name}``, ``${env:NAME}`` and ``$${`` are substituted (variables.py)."""
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UserError(f"{printable(name)}: cannot read: {_cause(exc)}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{printable(name)}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                        f"{exc.start})") from None
    return parse_document(text, name, problems, variables)


def parse_document(text: str, file: str, problems: list[Problem],
                   variables: Mapping[str, Any] | None = None) -> Document:
    document = Document(file)
    loader = _ManifestLoader(text)
    try:
        root = loader.get_single_node()
        if variables is not None and root is not None and "${" in text:  # else nothing to substitute
            root = _substitute(root, file, variables, problems)
        shape = _shape_problems(root) if root is not None else []
        if shape:  # nothing is built: it could be huge, or not JSON at all
            document.root = root
            paths = _node_paths(root, {id(at_path) for at_path, _, _ in shape})
            problems.extend(Problem(file, node.start_mark.line + 1, node.start_mark.column + 1,
                                    paths.get(id(at_path), ()), message) for at_path, node, message in shape)
            return document
        document.value = _construct(loader, root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(file, line, column, (), f"invalid YAML: {exc.problem or exc}"
                                                        f"{_flow_hint(text, exc) if variables is not None else ''}"))
        return document
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character)
        # The first such character stops the reader, so its first occurrence is where it stopped.
        at = text.find(chr(exc.character))
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        problems.append(Problem(file, line, column, (), f"invalid YAML: character U+{exc.character:04X} is not "
                                                        f"allowed ({exc.reason})"))
        return document
    except yaml.YAMLError as exc:
        problems.append(Problem(file, 1, 1, (), f"invalid YAML: {exc}"))
        return document
    finally:
        loader.dispose()
    document.root = loader.root
    if loader.duplicates:
        paths = _node_paths(loader.root, {id(mapping) for mapping, _, _ in loader.duplicates})
        for mapping, first, again in loader.duplicates:
            key = again.value
            problems.append(Problem(file, again.start_mark.line + 1, again.start_mark.column + 1,
                                    (*paths[id(mapping)], key),
                                    f"duplicate key {key!r} (first written on line {first.start_mark.line + 1})"))
    return document


def _substitute(root: yaml.Node, file: str, variables: Mapping[str, Any], problems: list[Problem]) -> yaml.Node:
    from .variables import substitute_nodes

    def report(node: yaml.Node, path: Path_, message: str, offset: int) -> None:
        line, column = start = node.start_mark.line + 1, node.start_mark.column + 1
        if not node.style and node.start_mark.line == node.end_mark.line:
            column += offset  # a plain scalar on one line is its text as written: point at the reference
        problems.append(Problem(file, line, column, path, message, value_at=start))

    return substitute_nodes(root, variables, report)


def _flow_hint(text: str, exc: yaml.MarkedYAMLError) -> str:
    """``{a: ${x}}`` is no YAML: in flow style ``{`` ends an unquoted value."""
    mark = exc.problem_mark
    line = text.split("\n")[mark.line] if mark and mark.line <= text.count("\n") else ""
    if "${" not in line or "flow" not in str(exc.context):
        return ""
    return " (inside [...] or {...} a ${...} must be quoted, which makes it text: write the value on its own " \
           "line, `key: ${name}`, for the variable's type)"


Shape = list[tuple[yaml.Node, yaml.Node, str]]  # (node whose path to show, node to point at, message)


def _shape_problems(root: yaml.Node) -> Shape:
    """Each way the node graph is no JSON document of a sane size. One iterative walk, each node once
    however often it is aliased; when some list or mapping is aliased, :func:`_alias_problems` adds up
    what the aliases expand to."""
    problems: Shape = []
    scalar_node, mapping_node = yaml.ScalarNode, yaml.MappingNode
    seen: set[int] = set()
    aliased = False
    written = 1  # nodes as written: an alias counts as one
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is scalar_node:  # only the root: other scalars are checked as children
            problems += _scalar_problems(node, seen)
            continue
        if id(node) in seen:
            aliased = True
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            problems.append((node, node, f"lists and mappings nested more than {MAX_DEPTH} levels deep"))
            continue
        if node.tag not in (_SEQ, _MAP):
            problems.append((node, node, _not_json(node.tag)))
        if type(node) is mapping_node:
            written += 2 * len(node.value)
            children = []
            for key, value in node.value:
                if type(key) is not scalar_node or key.tag not in _KEY_TAGS:
                    text = key.value if type(key) is scalar_node else "that is a list or mapping"
                    problems.append((node, key, f"key {text} must be a string (quote it)"))
                children.append(value)
        else:
            written += len(node.value)
            children = node.value
        for child in reversed(children):  # popped in document order: an anchor is met before its aliases
            if type(child) is not scalar_node:
                stack.append((child, depth + 1))
            elif child.tag != _STR:  # most scalars are text: no call for them
                problems += _scalar_problems(child, seen)
    if aliased and not problems:
        problems = _alias_problems(root, written)
    return problems


def _scalar_problems(node: yaml.ScalarNode, seen: set[int]) -> Shape:
    if node.tag == _STR or node.tag in _PLAIN_SCALARS or id(node) in seen:
        return []
    seen.add(id(node))  # reported once, however often it is aliased
    return [(node, node, _not_json(node.tag))]


def _alias_problems(root: yaml.Node, written: int) -> Shape:
    """A recursive alias, an alias bomb, or nesting too deep once aliases are expanded (the graph's keys
    and tags are fine). Children before parents: the nodes a list or mapping expands to, itself included,
    and its depth, add up from its children's."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    finished: list[yaml.Node] = []
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        children = [value for _, value in node.value] if type(node) is yaml.MappingNode else node.value
        containers = [child for child in children if type(child) is not yaml.ScalarNode]
        if leaving:
            keys = len(node.value) if type(node) is yaml.MappingNode else 0
            sizes[id(node)] = 1 + keys + len(children) + sum(sizes[id(child)] - 1 for child in containers)
            depths[id(node)] = 1 + max((depths[id(child)] for child in containers), default=0)
            finished.append(node)
        elif id(node) not in sizes:  # else: an alias of a node already added up
            if id(node) in entered:
                return [(node, node, "this value contains an alias of itself: it has no end as JSON")]
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in containers)
    budget = ALIAS_EXPANSION * max(written, MIN_WRITTEN)
    too_big = next((node for node in finished if sizes[id(node)] > budget), None)
    if too_big is not None:
        return [(too_big, too_big, f"aliases expand this value to more than {budget} nodes, over "
                                   f"{ALIAS_EXPANSION} times the {written} the file writes (an alias bomb?)")]
    too_deep = next((node for node in finished if depths[id(node)] > MAX_DEPTH), None)
    if too_deep is not None:
        return [(too_deep, too_deep, f"lists and mappings nested more than {MAX_DEPTH} levels deep (aliases "
                                     "expanded)")]
    return []


def _not_json(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"{shown} values are not accepted: manifests hold JSON values (text, numbers, true/false, null, " \
           "lists and mappings with text keys)"


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
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag != _MERGE:  # keys are text (_shape_problems): equal when written alike
                first = seen.setdefault(key_node.value, key_node)
                if first is not key_node:
                    self.duplicates.append((node, first, key_node))

    def construct_document(self, node: yaml.Node) -> Any:
        self.root = node
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.note_duplicates(node)
        return super().construct_mapping(node, deep=deep)


def _construct_int(loader: _ManifestLoader, node: yaml.ScalarNode) -> int:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:  # Python converts at most 4,300 digits
        raise yaml.constructor.ConstructorError(None, None, "number with too many digits to read",
                                                node.start_mark) from None


_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)
_ManifestLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _Unusual(Exception):
    """The document needs PyYAML's own constructor."""


def _construct(loader: _ManifestLoader, root: yaml.Node | None) -> Any:
    """The document's value: built directly when it is plain, else by PyYAML's constructor."""
    if root is None:
        return None
    try:
        return _construct_plain(loader, root)
    except _Unusual:
        loader.duplicates.clear()
        loader._checked.clear()
        return loader.construct_document(root)
    finally:
        loader.root = root


def _construct_plain(loader: _ManifestLoader, root: yaml.Node) -> Any:
    """What PyYAML's constructor builds from ``root`` (checked by :func:`_shape_problems`), for documents
    without merge keys; raises _Unusual for one with them. An aliased node is built once and shared,
    as PyYAML does; a key written twice is noted only when the mapping came out shorter."""
    scalars = loader.yaml_constructors
    built: dict[int, Any] = {}
    scalar_node, sequence_node = yaml.ScalarNode, yaml.SequenceNode

    def build(node: yaml.Node) -> Any:
        if type(node) is scalar_node:
            return node.value if node.tag == _STR else scalars[node.tag](loader, node)
        if id(node) in built:
            return built[id(node)]
        if type(node) is sequence_node:
            value: Any = [build(item) for item in node.value]
        else:
            value = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise _Unusual
                value[key_node.value] = build(value_node)
            if len(value) < len(node.value):
                loader.note_duplicates(node)
        built[id(node)] = value
        return value

    return build(root)


def _node_paths(root: yaml.Node | None, wanted: set[int]) -> dict[int, Path_]:
    """The document path of each node in ``wanted`` (by identity), in one depth-first walk."""
    found: dict[int, Path_] = {}
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())] if root is not None else []
    seen: set[int] = set()
    while stack and len(found) < len(wanted):
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in wanted:
            found[id(node)] = path
        if isinstance(node, yaml.MappingNode):
            children = [(value, (*path, key.value)) for key, value in node.value if isinstance(key, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, (*path, index)) for index, item in enumerate(node.value)]
        else:
            continue
        stack.extend(reversed(children))  # in document order: an alias's path is where its anchor was written
    return found
