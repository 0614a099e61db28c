"""Variables in manifests: ``${name}``, ``${env:NAME}`` and the literal ``$${`` (docs/manifests.md,
"Variables and overlays").

- ``${name}`` is a variable (from jsctl.yaml or ``--var``); ``${env:NAME}`` an environment variable,
  always text; ``$${`` is a literal ``${``. References are found left to right; a ``$`` not followed by
  ``{`` is text.
- A plain (unquoted) scalar that is exactly ``${name}`` becomes the variable's value with its type:
  ``num_replicas: ${replicas}`` is an integer, a list variable a list. Quoted (``"${replicas}"``) or
  inside longer text it is text, written as YAML writes a scalar (``3``, ``true``, ``null``); a list or
  mapping there is an error. (YAML's flow style, ``{...}`` and ``[...]``, takes ``${`` only quoted.)
- Names (variables and environment variables alike) match :data:`NAME`: an ASCII letter or ``_``, then
  ASCII letters, digits and ``_``. jsctl.yaml's variable names and ``--var`` follow the same rule.
- Keys are never substituted; a key holding ``${`` is reported. Values substituted in are not scanned
  again (a variable holding ``${x}`` gives the text ``${x}``).

Manifests are substituted on the YAML node tree (:func:`substitute_nodes`, called by the loader before
anything is built), so every later message still points at the file:line:column the value came from.
Plain values already loaded (a jsctl.yaml environment's settings) go through :func:`substitute_value`,
which returns the problems with their paths for the caller to locate (``Document.problem(path, message)``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from ..errors import UserError
from ..terminal import printable
from .limits import MIN_WRITTEN, VARIABLE_EXPANSION

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ENV_PREFIX = "env:"
MARKER = "${"  # no scalar without it is touched: the loader's test for "nothing to do"
# `$${` (the literal), or `${` up to the first `}` (unclosed when the match does not end with `}`).
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}?")
_WHOLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SHOWN = 40  # characters of a malformed reference quoted in its message
_STR = "tag:yaml.org,2002:str"
_TYPED = {f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null")}

Path_ = tuple[str | int, ...]
Report = Callable[[yaml.Node, Path_, str, int], None]  # (node, its path, message, offset in its text)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a variable, or None."""
    if NAME.fullmatch(name):
        return None
    return (f"invalid variable name {_shown(name)!r}: ASCII letters, digits and _, not starting with a digit")


def parse_var(text: str) -> tuple[str, Any]:
    """``--var name=value``: the name and the value read as a YAML scalar (``3`` an integer, ``true`` a
    boolean, ``1.5`` a float, an empty value null, anything else text; a value in YAML quotes, ``'3'``
    or ``"3"``, is the text inside). Raises UserError for a missing ``=`` or a bad name."""
    name, equals, raw = text.partition("=")
    if not equals:
        raise UserError(f"--var {printable(_shown(text))!r}: expected NAME=VALUE (e.g. --var replicas=3)")
    problem = name_problem(name)
    if problem:
        raise UserError(printable(f"--var {_shown(text)!r}: {problem}"))
    try:
        return name, _scalar(raw)
    except ValueError as exc:
        raise UserError(printable(f"--var {name}: {exc}")) from None


def _scalar(raw: str) -> Any:
    if raw[:1] in ("'", '"'):
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = None
        if not isinstance(value, str):
            raise ValueError("a value starting with a quote must be one quoted YAML string (e.g. '3' for the "
                             "text 3)")
        return value
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, raw, (True, False))
    if tag not in _TYPED:  # text, and timestamps stay text as in manifests
        return raw
    constructor = yaml.constructor.SafeConstructor()
    try:
        return constructor.yaml_constructors[tag](constructor, yaml.ScalarNode(tag, raw))
    except ValueError:  # Python converts at most 4,300 digits
        raise ValueError("number with too many digits to read") from None


def substitute_nodes(root: yaml.Node, variables: Mapping[str, Any], report: Report,
                     environ: Mapping[str, str] | None = None) -> yaml.Node:
    """``root`` with every reference in its scalars substituted (the nodes replaced, aliases once);
    ``report(node, path, message, offset)`` is called for each problem (``offset``: where in the
    scalar's text the reference starts). Keys holding ``${`` are reported, not substituted."""
    environ = os.environ if environ is None else environ
    done: dict[int, yaml.Node] = {}
    # Nodes of lists and mappings put in: bounded (VARIABLE_EXPANSION), or a short variable used often would
    # build billions of nodes before any check sees them.
    spent, budget = 0, None
    sizes: dict[int, int] = {}  # id of a variable's value -> its nodes

    def replaced(node: yaml.Node, path: Path_) -> yaml.Node:
        nonlocal spent, budget
        if type(node) is not yaml.ScalarNode or node.tag != _STR or MARKER not in node.value:
            return node
        if id(node) not in done:
            value, found = expand(node.value, variables, environ, typed=not node.style)
            if not found and isinstance(value, dict | list):
                budget = _budget(root) if budget is None else budget
                if id(value) not in sizes:
                    sizes[id(value)] = _size(value)
                spent += sizes[id(value)]
                if spent > budget:
                    found = [(0, f"list and mapping variables expand this file to more than {budget} nodes, over "
                                 f"{VARIABLE_EXPANSION} times the nodes it writes")]
            for offset, message in found:
                report(node, path, message, offset)
            done[id(node)] = node if found else _node(value, node)
        return done[id(node)]

    root = replaced(root, ())
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if type(node) is yaml.ScalarNode or id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, Path_]] = []
        if type(node) is yaml.MappingNode:
            for index, (key, value) in enumerate(node.value):
                at = (*path, key.value) if type(key) is yaml.ScalarNode else path
                if type(key) is yaml.ScalarNode and MARKER in key.value:
                    report(key, at, f"key {_shown(key.value)!r} holds {MARKER!r}: variables are not substituted "
                                    "in keys", 0)
                new = replaced(value, at)
                if new is not value:
                    node.value[index] = (key, new)
                children.append((new, at))
        elif type(node) is yaml.SequenceNode:
            for index, item in enumerate(node.value):
                node.value[index] = new = replaced(item, (*path, index))
                children.append((new, (*path, index)))
        stack.extend(reversed(children))  # document order: an alias's path is its anchor's
    return root


def substitute_value(value: Any, variables: Mapping[str, Any] | None = None, path: Path_ = (),
                     environ: Mapping[str, str] | None = None) -> tuple[Any, list[tuple[Path_, str]]]:
    """``value`` (plain data: dicts, lists, scalars) with every reference in its strings substituted, and
    the problems as (path, message), paths from ``path``. A string that is exactly ``${name}`` takes the
    variable's type (the quotes it was written with are not known here). For a loaded file's values, e.g. a jsctl.yaml
    environment's settings (``password: ${env:PROD_NATS_PASSWORD}``): ``Document.problem(path, message)``
    puts each at its file:line:column. Keys are left as they are."""
    environ = os.environ if environ is None else environ
    problems: list[tuple[Path_, str]] = []

    def walk(item: Any, at: Path_) -> Any:
        if isinstance(item, str):
            if MARKER not in item:
                return item
            result, found = expand(item, variables or {}, environ, typed=True)
            problems.extend((at, message) for _, message in found)
            return item if found else result
        if isinstance(item, dict):
            return {key: walk(child, (*at, key)) for key, child in item.items()}
        if isinstance(item, list):
            return [walk(child, (*at, index)) for index, child in enumerate(item)]
        return item

    return walk(value, path), problems


def expand(text: str, variables: Mapping[str, Any], environ: Mapping[str, str], *,
           typed: bool) -> tuple[Any, list[tuple[int, str]]]:
    """The value of one scalar's ``text`` (with the variable's type when ``typed`` and the text is exactly
    ``${name}``), and its problems as (offset of the reference in ``text``, message)."""
    whole = _WHOLE.fullmatch(text) if typed else None
    if whole and whole.group(1) in variables:
        return variables[whole.group(1)], []
    parts: list[str] = []
    problems: list[tuple[int, str]] = []
    end = 0
    for match in _REFERENCE.finditer(text):
        parts.append(text[end:match.start()])
        end = match.end()
        if match.group(0) == "$${":
            parts.append(MARKER)
            continue
        try:
            parts.append(_reference_text(match, variables, environ))
        except ValueError as exc:
            problems.append((match.start(), str(exc)))
    parts.append(text[end:])
    return "".join(parts), problems


def _reference_text(match: re.Match[str], variables: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """What one ``${...}`` inside text stands for; ValueError with the message when it stands for nothing."""
    content = match.group(1)
    if not match.group(0).endswith("}"):
        raise ValueError(f"{_shown(match.group(0))!r}: '${{' without its closing '}}' (write '$${{' for a "
                         "literal '${')")
    if content.startswith(ENV_PREFIX):
        name = content[len(ENV_PREFIX):]
        if not NAME.fullmatch(name):
            raise ValueError(f"'${{{_shown(content)}}}': expected ${{env:NAME}}, NAME of ASCII letters, digits and _, "
                             "not starting with a digit")
        if name not in environ:
            raise ValueError(f"environment variable {name} is not set (referenced as ${{env:{name}}})")
        return environ[name]
    if not NAME.fullmatch(content):
        raise ValueError(f"'${{{_shown(content)}}}' is no variable reference: ${{name}} takes ASCII letters, "
                         "digits and _, not starting with a digit; ${env:NAME} an environment variable (write "
                         "'$${' for a literal '${')")
    if content not in variables:
        raise ValueError(_undefined(content, variables))
    value = variables[content]
    if isinstance(value, dict | list):
        raise ValueError(f"variable {content!r} holds a {'list' if isinstance(value, list) else 'mapping'}: it can "
                         "only stand alone as a whole value, not inside text")
    return _scalar_text(value)


def _undefined(name: str, variables: Mapping[str, Any]) -> str:
    from .suggest import did_you_mean

    if not variables:
        return f"undefined variable {name!r} (no variables are defined: set them in jsctl.yaml or pass --var " \
               f"{name}=VALUE)"
    return f"undefined variable {name!r}{did_you_mean(name, sorted(variables))} (pass --var {name}=VALUE)"


def _scalar_text(value: Any) -> str:
    """A scalar as YAML writes it: ``true``, ``null``, ``3``, ``1.5``."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return str(value)


def _budget(root: yaml.Node) -> int:
    """The nodes list and mapping variables may put in the document ``root``."""
    written, stack, seen = 0, [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        written += 1
        if type(node) is yaml.MappingNode:
            stack.extend(part for pair in node.value for part in pair)
        elif type(node) is yaml.SequenceNode:
            stack.extend(node.value)
    return VARIABLE_EXPANSION * max(written, MIN_WRITTEN)


def _size(value: Any) -> int:
    """The nodes of a plain value (a list or mapping counts its keys and items)."""
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        size += 1
        if isinstance(item, dict):
            size += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return size


def _node(value: Any, at: yaml.Node) -> yaml.Node:
    """A node tree holding ``value``, every node marked where ``at`` was written."""
    if isinstance(value, str):
        return yaml.ScalarNode(_STR, value, at.start_mark, at.end_mark)
    node = yaml.representer.SafeRepresenter().represent_data(value)
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.start_mark, current.end_mark = at.start_mark, at.end_mark
        if isinstance(current, yaml.MappingNode):
            stack.extend(part for pair in current.value for part in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return node


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
