"""Load and validate schema.yaml: JSON Schema (shipped in the package) plus semantic checks.

Every problem is reported, all at once, as ``file:line:column: path: message``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import UserError
from .spec import Problem, SchemaSpec, build_spec
from .yamlpos import Located, dotted, load_located

SCHEMA_FILE = "schema.yaml"


@cache
def json_schema() -> dict[str, Any]:
    return json.loads(resources.files("reconciler").joinpath("schemas/db-schema.json").read_text())


def load_schema(path: Path) -> SchemaSpec:
    """The validated desired schema in ``path`` (a schema.yaml or a migrations directory)."""
    if path.is_dir():
        path = path / SCHEMA_FILE
    located = load_located(path)
    return validate(located)


def validate(located: Located) -> SchemaSpec:
    import jsonschema

    problems = [Problem(path, f"duplicate key {key!r}") for path, key in located.duplicates]
    validator = jsonschema.Draft202012Validator(json_schema())
    problems += [Problem(tuple(err.absolute_path), _schema_message(err))
                 for err in sorted(validator.iter_errors(located.data), key=lambda e: list(map(str, e.path)))]
    if problems:  # semantic checks need structurally valid data
        raise UserError(_format(located, problems))
    spec, problems = build_spec(located.data)
    if problems:
        raise UserError(_format(located, problems))
    return spec


def _schema_message(err: Any) -> str:
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown field(s)")
    if err.validator == "pattern" and err.absolute_path and err.absolute_path[-1] == "type":
        return (f"unsupported type {err.instance!r} (text, varchar(n), smallint, integer, bigint, numeric(p,s), "
                "boolean, date, timestamptz, uuid, jsonb, bytea)")
    return err.message


def _format(located: Located, problems: list[Problem]) -> str:
    return "\n".join(f"{located.where(p.path)}: {dotted(p.path)}: {p.message}" for p in problems)
