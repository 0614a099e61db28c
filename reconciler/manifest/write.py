"""Write exported manifests: new files with a header, or streams merged into the files that exist.

The YAML is emitted by ruamel.yaml, the round-trip YAML library (imported here only: only `jsctl
export` writes YAML). Merging keeps the file as it is around the merged streams: its comments, order,
quoting and indentation; a merged stream's entry is updated in place (only fields whose meaning
changed are rewritten: `max_age: 365d` stays when the server says `1y`), its consumers' entries too,
consumers no longer live are removed, new ones appended. The result is read back by jsctl's own
loader before anything is written: the other entries must declare exactly what they declared.

Strings that jsctl's reader (PyYAML, YAML 1.1) would take for something else (`on`, `1_000`, `1:20`,
timestamps) are quoted; ruamel.yaml quotes what YAML 1.2 would misread.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ManifestError, UserError
from ..terminal import printable
from .load import Document, Problem, parse_document, read_document
from .model import CONSUMER, STREAM, Desired
from .schema import SCHEMA_RESOURCE, manifest_schema, unit_table
from .units import convert_units
from .validate import validate_documents

FILES = {"streams": "streams.yaml", "consumers": "consumers.yaml", "buckets": "buckets.yaml"}  # what export writes
BUCKET_SECTIONS = ("key_value", "object_stores")  # buckets.yaml's
SCHEMA_FILE = "manifest.schema.json"  # the shipped schema, copied beside the manifests for editors
SCHEMA_ID = manifest_schema()["$id"]
HEADER_START = "# Exported by `jsctl export"  # the first line of every header export writes
# Lines of a header an earlier export wrote: replaced, not piled up, when a merge rewrites the file.
_HEADER_LINE = re.compile(r"# (Exported by `jsctl export|from .*, account |yaml-language-server: )")
_STR = "tag:yaml.org,2002:str"
_INDENT = (2, 4, 2)  # mapping, sequence, offset: `  - name: X` under `streams:`, as the docs write it


@dataclass(frozen=True)
class Source:
    """Where an export came from, for the header."""

    jsctl_version: str
    at: str  # UTC, RFC 3339
    server: str  # URL, credentials already redacted
    server_version: str
    server_name: str
    account: str | None  # None: the server did not say
    domain: str | None
    streams: tuple[str, ...] = ()  # --stream names; () for the whole account


def header(source: Source, *, schema: bool) -> str:
    command = "jsctl export" + "".join(f" --stream {name}" for name in source.streams)
    lines = [f"# Exported by `{command}` (jsctl {source.jsctl_version}) at {source.at}",
             f"# from {source.server} (nats-server {source.server_version}, server {source.server_name}), "
             f"account {source.account or '(unknown)'}, JetStream domain {source.domain or '(none)'}"]
    if schema:
        lines.append(f"# yaml-language-server: $schema={SCHEMA_FILE}")
    return "".join(printable(line) + "\n" for line in lines)


class _Exported(str):
    """A string export writes (not one a merged file already holds, which keeps its spelling)."""


def _yaml11_misreads(text: str) -> bool:
    return yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False)) != _STR


def _emitter(indent: tuple[int, int, int] = _INDENT) -> Any:
    from ruamel.yaml import YAML

    emitter = YAML()  # round trip: comments, order and quotes of what it loaded are kept
    emitter.preserve_quotes = True
    emitter.width = 1 << 16  # never fold a long line
    emitter.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    emitter.representer.add_representer(_Exported, _represent_exported)
    return emitter


def _represent_exported(representer: Any, text: _Exported) -> Any:
    return representer.represent_scalar(_STR, str(text), style='"' if _yaml11_misreads(text) else None)


def _exported(value: Any) -> Any:
    """``value`` with every string (keys too) marked as written by export."""
    if isinstance(value, dict):
        return {_exported(k): _exported(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exported(v) for v in value]
    return _Exported(value) if isinstance(value, str) else value


def _dump(emitter: Any, document: Any) -> str:
    out = io.StringIO()
    emitter.dump(document, out)
    return out.getvalue()


def render(sections: dict[str, list[dict[str, Any]]], head: str) -> str:
    """A new manifest file: the header, then ``sections`` (``streams``, ``consumers``)."""
    return head + _dump(_emitter(), _exported(sections))


@dataclass
class _File:
    path: Path
    text: str | None = None  # as it is now; None: absent
    document: Any = None  # ruamel's round-trip document
    indent: tuple[int, int, int] = _INDENT
    changed: bool = False


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    merged: bool = False


def existing(directory: Path) -> list[Path]:
    return [directory / name for name in FILES.values() if os.path.lexists(directory / name)]


def write_new(directory: Path, streams: list[dict], consumers: list[dict], head: str,
              buckets: dict[str, list[dict]] | None = None) -> Written:
    """Write (or overwrite) ``streams.yaml`` and ``consumers.yaml`` and the schema copy, and ``buckets.yaml``
    when there are ``buckets`` (``key_value``, ``object_stores`` items) or it exists (it is replaced too)."""
    texts = {directory / FILES["streams"]: render({"streams": streams}, head),
             directory / FILES["consumers"]: render({"consumers": consumers}, head)}
    sections = {name: items for name, items in (buckets or {}).items() if items}
    if sections or os.path.lexists(directory / FILES["buckets"]):
        texts[directory / FILES["buckets"]] = render(sections or {BUCKET_SECTIONS[0]: []}, head)
    _write_all(directory, texts)
    return Written(list(texts))


def check_mergeable(directory: Path) -> Desired:
    """What the existing files declare; refuses files jsctl cannot read as manifests (before connecting)."""
    problems: list[Problem] = []
    documents = [read_document(path, problems) for path in existing(directory)]
    desired = validate_documents(documents, problems)
    if problems:
        raise UserError(f"cannot merge into {printable(str(directory))}: not valid jsctl manifests (fix them, or "
                        "export to another --dir):\n" + "\n".join(str(problem) for problem in problems))
    return desired


def merge(directory: Path, before: Desired, streams: list[dict], consumers: list[dict], head: str) -> Written:
    """Merge the exported ``streams`` (and all their consumers) into the existing files."""
    files = {section: _load(directory / name) for section, name in FILES.items()}
    names = {item["name"] for item in streams}
    for item in streams:
        _merge_stream(files, item)
    _merge_consumers(files, names, consumers)
    texts = {}
    for f in files.values():
        if f.changed:
            body = _dump(_emitter(f.indent), f.document)
            texts[f.path] = head + body if f.text is None or f.text.startswith(HEADER_START) else body
    _check_merged(texts, files, before, names, streams, consumers)
    _write_all(directory, texts)
    return Written(list(texts), merged=True)


def _without_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and _HEADER_LINE.match(lines[start]):
        start += 1
    return "".join(lines[start:])


def _load(path: Path) -> _File:
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    if not os.path.lexists(path):
        return _File(path)
    text = path.read_text(encoding="utf-8")
    try:  # a header of an earlier export is written anew: not part of the document
        ours = text.startswith(HEADER_START)
        document, indent, block_sequence_indent = load_yaml_guess_indent(_without_header(text) if ours else text,
                                                                          yaml=_emitter())
    except YAMLError as exc:  # jsctl's reader took it, so this is a difference between the two libraries
        raise UserError(f"cannot merge into {printable(str(path))}: ruamel.yaml cannot keep its layout: "
                        f"{printable(str(exc).splitlines()[0])}") from None
    indent = indent or _INDENT[0]
    offset = block_sequence_indent if block_sequence_indent is not None else 0
    return _File(path, text, document, (indent, max(indent, offset + 2), offset))


def _section(f: _File, section: str) -> list:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if f.document is None:
        f.document = CommentedMap()
    if f.document.get(section) is None:
        f.document[section] = CommentedSeq()
    return f.document[section]


def _entries(files: dict[str, _File], section: str) -> list[tuple[_File, list, int]]:
    """Every (file, list, index) of an entry under ``section:`` in either file."""
    return [(f, f.document[section], index) for f in files.values()
            if f.document is not None and isinstance(f.document.get(section), list)
            for index in range(len(f.document[section]))]


def _merge_stream(files: dict[str, _File], item: dict[str, Any]) -> None:
    for f, entries, index in _entries(files, "streams"):
        if entries[index].get("name") == item["name"]:
            f.changed |= _update(entries, index, item, STREAM)
            return
    _section(files["streams"], "streams").append(_exported(item))
    files["streams"].changed = True


def _consumer_key(entry: dict[str, Any]) -> tuple[Any, Any]:
    return entry.get("stream"), entry.get("durable_name") or entry.get("name")


def _merge_consumers(files: dict[str, _File], streams: set[str], consumers: list[dict]) -> None:
    wanted = {_consumer_key(item): item for item in consumers}
    for f, entries, index in reversed(_entries(files, "consumers")):  # from the end: removals keep indexes
        key = _consumer_key(entries[index])
        if key[0] not in streams:
            continue
        if key in wanted:
            f.changed |= _update(entries, index, wanted.pop(key), CONSUMER)
        else:  # not live any more
            del entries[index]
            f.changed = True
    for item in consumers:
        if _consumer_key(item) in wanted:
            _section(files["consumers"], "consumers").append(_exported(item))
            files["consumers"].changed = True


def _plain(value: Any) -> Any:
    """A loaded entry as plain values (ruamel reads an unquoted timestamp as a datetime: its text is enough)."""
    return json.loads(json.dumps(value, default=str))


def _update(entries: list, index: int, item: dict[str, Any], kind: str) -> bool:
    """Make ``entries[index]`` declare ``item``, rewriting only the fields whose meaning differs."""
    entry = entries[index]
    if getattr(entry, "merge", None):  # built with `<<: *anchor`: its own keys are not all it says
        entries[index] = _exported(item)
        return True
    old, new = _plain(entry), copy.deepcopy(item)
    convert_units(old, unit_table()[kind])
    convert_units(new, unit_table()[kind])
    changed = False
    for key in [k for k in entry if k not in item]:
        del entry[key]
        changed = True
    for position, (key, value) in enumerate(item.items()):
        if key not in old:  # where the export puts it (`durable_name` after `stream`), not last
            entry.insert(min(position, len(entry)), _exported(key), _exported(value))
            changed = True
        elif old[key] != new[key]:
            entry[key] = _exported(value)
            changed = True
    return changed


def _check_merged(texts: dict[Path, str], files: dict[str, _File], before: Desired, names: set[str],
                  streams: list[dict], consumers: list[dict]) -> None:
    """Read the merged files back as ``jsctl plan`` would: they must be valid, declare the exported
    items, and declare everything else exactly as before."""
    problems: list[Problem] = []
    documents: list[Document] = []
    for f in files.values():
        text = texts.get(f.path, f.text)
        if text is not None:
            documents.append(parse_document(text, str(f.path), problems))
    after = validate_documents(documents, problems)
    if problems:
        raise ManifestError([f"merging would make the manifests invalid (nothing written): {p}" for p in problems])
    wanted = _expected(streams, consumers)
    for kind, declared_before, declared_after in ((STREAM, before.streams, after.streams),
                                                  (CONSUMER, before.consumers, after.consumers)):
        for key in {*declared_before, *declared_after}:
            name = key if kind == STREAM else key[0]
            expected = wanted[kind].get(key) if name in names else \
                (declared_before[key].config if key in declared_before else None)
            got = declared_after[key].config if key in declared_after else None
            if got != expected:  # e.g. an entry built from a YAML anchor the merged entry defines
                shown, directory = key if kind == STREAM else "/".join(key), files["streams"].path.parent
                raise UserError(f"cannot merge into {printable(str(directory))}: it would change {kind} "
                                f"{printable(shown)}, which this export does not write (does it share a YAML "
                                "anchor with a merged entry?): nothing written; export to another --dir")


def _expected(streams: list[dict], consumers: list[dict]) -> dict[str, dict]:
    """The configs the loader returns for the exported items."""
    out: dict[str, dict] = {STREAM: {}, CONSUMER: {}}
    for item in streams:
        config = copy.deepcopy(item)
        convert_units(config, unit_table()[STREAM])
        out[STREAM][item["name"]] = config
    for item in consumers:
        config = {k: v for k, v in copy.deepcopy(item).items() if k != "stream"}
        convert_units(config, unit_table()[CONSUMER])
        out[CONSUMER][(item["stream"], item["durable_name"])] = config
    return out


def _write_all(directory: Path, texts: dict[Path, str]) -> None:
    """Each file replaced whole (a temporary file renamed over it), and the schema copy beside them."""
    from importlib import resources

    schema = resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    texts = {**texts, directory / SCHEMA_FILE: schema}
    umask = os.umask(0)
    os.umask(umask)
    staged: list[tuple[str, Path]] = []
    target = directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in texts.items():
            target = path.resolve() if path.is_symlink() else path
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            staged.append((temporary, target))
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, mode)  # a new file as open() makes it; a replaced one keeps its mode
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as exc:
        raise UserError(f"cannot write {printable(str(target))}: {(exc.strerror or str(exc)).lower()}") from None
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)


def check_schema_copy(directory: Path) -> None:
    """Refuse to overwrite a ``manifest.schema.json`` that is not jsctl's (export refreshes its own)."""
    path = directory / SCHEMA_FILE
    if not os.path.lexists(path):
        return
    try:
        own = json.loads(path.read_text(encoding="utf-8")).get("$id") == SCHEMA_ID
    except (OSError, ValueError, AttributeError):
        own = False
    if not own:
        raise UserError(f"{printable(str(path))} exists and is not jsctl's manifest schema: export writes its "
                        "schema there for editors; move that file, or export to another --dir")

