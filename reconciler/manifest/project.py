"""jsctl.yaml, the project file: who this project is (``project:``, the owner recorded on what its apply
creates or adopts; see jetstream/ownership.py). Optional: ``./jsctl.yaml`` when it exists, or the file
given with ``--project``.

Read and validated like the manifests: the YAML loader of load.py (no alias bombs, no non-string keys,
duplicate keys reported), the JSON Schema shipped as ``schemas/project.schema.json``, every problem at
its ``file:line:column``. A project id is what the schema's pattern allows (``owner_problem``): it
becomes a metadata value on the server, shown in every plan and by natscli, so it holds no space, no
control or invisible character and nothing a shell or a terminal would read as more than text.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from .load import Document, Problem, read_document, regular_file
from .schema import document_problems, shipped_schema, shipped_validator

PROJECT_FILE = "jsctl.yaml"
SCHEMA_RESOURCE = "schemas/project.schema.json"


@dataclass(frozen=True)
class Project:
    project: str | None = None  # this project's id, the owner of what it applies
    file: str | None = None  # where it was read from; None: no project file


def project_schema() -> dict[str, Any]:
    return shipped_schema(SCHEMA_RESOURCE)


@functools.cache
def _id_pattern() -> re.Pattern[str]:
    return re.compile(project_schema()["properties"]["project"]["pattern"])


def owner_problem(owner: str) -> str | None:
    """Why ``owner`` cannot be a project id, or None. (Matched whole: a JSON Schema ``$`` lets a final
    line break through.)"""
    if _id_pattern().fullmatch(owner):
        return None
    return (f"invalid project id {owner!r}: 1 to 64 ASCII letters, digits, '.', '_' or '-', starting and ending "
            "with a letter or digit")


def _explain(error: Any) -> str | None:
    if error.validator == "pattern" and list(error.absolute_path) == ["project"]:
        return owner_problem(error.instance)
    return None


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
    owner = (document.value or {}).get("project") if not problems else None
    problem = owner_problem(owner) if owner is not None else None
    if problem:  # what the schema's pattern lets through (a final line break)
        problems.append(document.problem(("project",), problem))
    if problems:
        raise ManifestError([str(problem) for problem in problems])
    return Project(owner, document.file)
