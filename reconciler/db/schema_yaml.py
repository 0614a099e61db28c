"""Load and validate schema.yaml: JSON Schema (shipped in the package) plus semantic checks.

The YAML loader and the wording of schema errors are the manifests' (reconciler/manifest), so
every problem reads the same: ``file:line:column: path: message``, all of them at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..manifest.load import Document, Problem, read_document
from ..manifest.schema import document_problems, shipped_schema, shipped_validator
from .spec import Problem as SpecProblem
from .spec import SchemaSpec, build_spec

SCHEMA_FILE = "schema.yaml"
SCHEMA_RESOURCE = "schemas/db-schema.json"


def json_schema() -> dict[str, Any]:
    return shipped_schema(SCHEMA_RESOURCE)


def load_schema(path: Path, server_version: int | None = None) -> SchemaSpec:
    """The validated desired schema in ``path`` (a schema.yaml, or the migrations directory holding it).

    ``server_version``: the target Postgres' major version, whose type limits apply (None: the newest's).
    """
    if path.is_dir():
        path = path / SCHEMA_FILE
    problems: list[Problem] = []
    document = read_document(path, problems)
    if not problems:
        problems += schema_problems(document)
    if not problems:  # semantic checks need structurally valid data
        spec, found = build_spec(document.value, server_version)
        problems += [document.problem(p.path, p.message) for p in found]
        if not problems:
            return spec
    raise ManifestError([str(problem) for problem in problems])


def located(path: Path, problems: list[SpecProblem]) -> ManifestError:
    """Problems found with the schema's values (by path), as an error at their place in the file."""
    if path.is_dir():
        path = path / SCHEMA_FILE
    document = read_document(path, [])
    return ManifestError([str(document.problem(p.path, p.message)) for p in problems])


def schema_problems(document: Document) -> list[Problem]:
    return document_problems(document, shipped_validator(SCHEMA_RESOURCE), _unsupported_type)


def _unsupported_type(error: Any) -> str | None:
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] == "type":
        return (f"unsupported type {error.instance!r} (text, varchar(n), smallint, integer, bigint, numeric(p,s), "
                "boolean, date, timestamptz, uuid, jsonb, bytea)")
    return None
