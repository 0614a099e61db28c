"""jsctl.yaml, the project file: who this project is (``project:``, the owner recorded on what its apply
creates or adopts; see jetstream/ownership.py) and where it is applied (``environments:``, each with its
connection settings, variables and manifest files; docs/environments.md). Optional: ``./jsctl.yaml``
when it exists, or the file given with ``--project``.

Read and validated like the manifests: the YAML loader of load.py (no alias bombs, no non-string keys,
duplicate keys reported), the JSON Schema shipped as ``schemas/project.schema.json``, every problem at
its ``file:line:column``. Secrets are written only as ``${env:NAME}`` references (``literal_secret``):
a file reviewed in pull requests and kept in git holds no password, token, seed or credential URL.
``${env:NAME}`` is read when an environment is chosen (``Project.environment``), so a variable only
production needs may be unset on a laptop. A project id is what the schema's pattern allows (``owner_problem``): it
becomes a metadata value on the server, shown in every plan and by natscli, so it holds no space, no
control or invisible character and nothing a shell or a terminal would read as more than text.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError, UserError
from ..url_credentials import url_secrets
from .load import Document, Path_, Problem, read_document, regular_file
from .schema import document_problems, shipped_schema, shipped_validator
from .variables import expand, name_problem, substitute_value

PROJECT_FILE = "jsctl.yaml"
SCHEMA_RESOURCE = "schemas/project.schema.json"


# Settings that name a file or directory: relative to the project file's directory.
PATH_SETTINGS = frozenset({"nkey", "creds", "tls_ca", "tls_cert", "tls_key", "migrations"})
_SECRET_SETTINGS = frozenset({"password", "token"})  # whole values that are secrets
_URL_SETTINGS = frozenset({"server", "database_url"})  # URLs that may carry a password or token
_SEED = re.compile(r"\s*S[A-Z][A-Z2-7]{50,}\s*")  # an nkey seed (SU..., SA..., SO...), base32
_PLACEHOLDER = "jsctlreference"
_PLACEHOLDERS = re.compile(f"(?:{_PLACEHOLDER})+")
_BY_REFERENCE = "write it as ${env:NAME} and set NAME where jsctl runs"


@dataclass(frozen=True)
class Environment:
    """One place the project is applied to, its ``${env:NAME}`` read (``Project.environment``)."""

    name: str
    settings: Mapping[str, str] = field(default_factory=dict)  # connection settings, named as the flags are
    variables: Mapping[str, Any] = field(default_factory=dict)  # values for ${name} in the manifests
    files: tuple[str, ...] = ()  # manifest files and directories; none: the default files


@dataclass(frozen=True)
class Project:
    project: str | None = None  # this project's id, the owner of what it applies
    file: str | None = None  # where it was read from; None: no project file
    environments: tuple[str, ...] = ()  # their names, in the file's order
    document: Document | None = field(default=None, compare=False, repr=False)

    def environment(self, name: str, environ: Mapping[str, str] | None = None) -> Environment:
        """The environment ``name`` with its ``${env:NAME}`` read from ``environ`` and its paths made relative
        to the project file's directory; a UserError naming the environments when there is no such one."""
        if name not in self.environments:
            where = f"in {self.file}" if self.file else f"(no {PROJECT_FILE} here; --project FILE names one)"
            known = f": {', '.join(self.environments)}" if self.environments else ": it declares none"
            raise UserError(f"no environment {name!r} {where}{known}")
        assert self.document is not None
        return _environment(self.document, name, os.environ if environ is None else environ)


def project_schema() -> dict[str, Any]:
    return shipped_schema(SCHEMA_RESOURCE)


_ID_RULE = "1 to 64 ASCII letters, digits, '.', '_' or '-', starting and ending with a letter or digit"


@functools.cache
def _id_pattern() -> re.Pattern[str]:
    return re.compile(project_schema()["properties"]["project"]["pattern"])


def owner_problem(owner: str) -> str | None:
    """Why ``owner`` cannot be a project id, or None. (Matched whole: a JSON Schema ``$`` lets a final
    line break through.)"""
    if _id_pattern().fullmatch(owner):
        return None
    return f"invalid project id {owner!r}: {_ID_RULE}"


def _explain(error: Any) -> str | None:
    if error.validator == "pattern" and list(error.absolute_path) == ["project"]:
        return owner_problem(error.instance)
    if error.validator == "pattern" and list(error.absolute_path) == ["environments"]:
        return f"invalid environment name {error.instance!r}: {_ID_RULE}"
    if error.validator == "pattern" and list(error.absolute_path)[-1:] == ["variables"]:
        return name_problem(error.instance)
    return None


class _EveryVariable(dict):
    """An environment in which every ``${env:NAME}`` stands for the same text: the file's own part of a value."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> str:
        return self.text


def _written(value: str, reference: str) -> str:
    """``value`` with each ``${env:NAME}`` as ``reference`` (a bad reference is the next checks' to report)."""
    return expand(value, {}, _EveryVariable(reference), typed=False)[0]


def literal_secret(key: str, value: str) -> str | None:
    """Why setting ``key`` to ``value`` writes a secret into the file, or None."""
    if key in _SECRET_SETTINGS and _written(value, "").strip():
        return f"a literal {key} in the project file: {_BY_REFERENCE}"
    # Each reference stands in as one placeholder word: a credential made only of them is by reference.
    if key in _URL_SETTINGS and any(not _PLACEHOLDERS.fullmatch(secret)
                                    for secret in url_secrets(_written(value, _PLACEHOLDER))):
        return f"a password or token written in {key}: {_BY_REFERENCE} (the whole URL, or its password)"
    if key == "nkey" and _SEED.fullmatch(_written(value, "")):
        return "an nkey seed written in the project file: nkey is the path of a seed file"
    if key == "creds" and ("\n" in value or "-----BEGIN" in value):
        return "credentials written in the project file: creds is the path of a .creds file"
    return None


def _domain_problem(key: str, value: str) -> str | None:
    from ..jetstream.settings import domain_problem

    return domain_problem(value) if key == "js_domain" else None


def _setting_problems(document: Document) -> list[Problem]:
    """Literal secrets, and JetStream domains nats-server would refuse (those written with ``${env:...}``
    are checked once read, by ``_environment``)."""
    environments = (document.value or {}).get("environments") or {}
    return [document.problem(("environments", name, key), problem)
            for name, environment in environments.items() for key, value in (environment or {}).items()
            if isinstance(value, str) and (problem := literal_secret(key, value) or
                                           (None if "${" in value else _domain_problem(key, value)))]


def _environment(document: Document, name: str, environ: Mapping[str, str]) -> Environment:
    path: Path_ = ("environments", name)
    written, problems = substitute_value(document.value["environments"][name] or {}, {}, path, environ)
    problems += [((*path, key), problem) for key, value in written.items()
                 if isinstance(value, str) and (problem := _domain_problem(key, value))]
    if problems:
        raise ManifestError([str(document.problem(at, message)) for at, message in problems])
    base = Path(document.file).parent

    def located(text: str) -> str:
        return str(base / os.path.expanduser(text))

    settings = {key: located(value) if key in PATH_SETTINGS else value for key, value in written.items()
                if key not in ("variables", "files")}
    return Environment(name, settings, written.get("variables") or {},
                       tuple(located(file) for file in written.get("files") or ()))


def load_project(path: Path | None = None) -> Project:
    """The project file ``path``, else ``./jsctl.yaml`` if there is one, else no settings.

    Raises ManifestError with every problem, or UserError when ``path`` cannot be read."""
    if path is None:
        path = Path(PROJECT_FILE)
        if not os.path.lexists(path):
            return Project()
    problems: list[Problem] = []
    return project_of(read_document(regular_file(path), problems), problems)


def project_of(document: Document, problems: list[Problem]) -> Project:
    """The settings of a parsed project file (``problems``: what parsing it found); raises ManifestError."""
    if not problems:
        problems = document_problems(document, shipped_validator(SCHEMA_RESOURCE), _explain)
    if not problems:
        problems = _setting_problems(document)
    owner = (document.value or {}).get("project") if not problems else None
    problem = owner_problem(owner) if owner is not None else None
    if problem:  # what the schema's pattern lets through (a final line break)
        problems.append(document.problem(("project",), problem))
    if problems:
        raise ManifestError([str(problem) for problem in problems])
    return Project(owner, document.file, tuple((document.value or {}).get("environments") or ()), document)
