"""Manifests: load (YAML with positions), validate (JSON Schema + semantic checks), convert units.

The entry point is :func:`load_desired`; everything else in this package serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ManifestError
from ..memory import long_lived_allocations
from .model import Desired

if TYPE_CHECKING:
    from .load import Problem

__all__ = ["Desired", "ManifestError", "load_desired"]


def load_desired(paths: list[Path], variables: Mapping[str, Any] | None = None) -> Desired:
    """Read, validate and convert the manifests named by ``-f`` (or the default files), with ``${name}``
    taking its value from ``variables`` (none: every ``${name}`` is undefined) and ``patches:`` applied.

    Raises :class:`ManifestError` listing every problem, or ``UserError`` when a file is missing.
    """
    from .load import manifest_files, read_document
    from .validate import validate_documents

    files = manifest_files(paths)
    problems: list[Problem] = []
    with long_lived_allocations():
        documents = [read_document(file, problems, variables or {}) for file in files]
        desired = validate_documents(documents, problems)
    if problems:
        order = {str(file): index for index, file in enumerate(files)}
        problems = _without_echoes(problems)
        problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line, p.column))
        raise ManifestError([str(problem) for problem in problems])
    return desired


def _without_echoes(problems: list[Problem]) -> list[Problem]:
    """A value with a bad ``${...}`` stays text, which later checks may refuse too: its reference's
    message says it all, so later messages about that same value (where it, or its alias, was written:
    the same line and column) are left out."""
    bad = {(problem.file, *problem.value_at) for problem in problems if problem.value_at}
    if not bad:
        return problems
    return [problem for problem in problems
            if problem.value_at or (problem.file, problem.line, problem.column) not in bad]
