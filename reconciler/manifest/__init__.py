"""Manifests: load (YAML with positions), validate (JSON Schema + semantic checks), convert units.

The entry point is :func:`load_desired`; everything else in this package serves it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ManifestError
from ..memory import long_lived_allocations
from .model import Desired

__all__ = ["Desired", "ManifestError", "load_desired"]


def load_desired(paths: list[Path]) -> Desired:
    """Read, validate and convert the manifests named by ``-f`` (or the default files).

    Raises :class:`ManifestError` listing every problem, or ``UserError`` when a file is missing.
    """
    from .load import Problem, manifest_files, read_document
    from .validate import validate_documents

    files = manifest_files(paths)
    problems: list[Problem] = []
    with long_lived_allocations():
        documents = [read_document(file, problems) for file in files]
        desired = validate_documents(documents, problems)
    if problems:
        order = {str(file): index for index, file in enumerate(files)}
        problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line, p.column))
        raise ManifestError([str(problem) for problem in problems])
    return desired
