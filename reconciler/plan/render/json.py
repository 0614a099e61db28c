"""A Plan as JSON: the documented, versioned form (``Plan.to_dict``) with a summary, and the JSON Schema
that describes it (shipped in the package: `jsctl plan --print-schema`)."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

from ..model import Plan

SCHEMA_RESOURCE = "schemas/plan.schema.json"


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as `-o json` writes it, as JSON values (environments.py nests it)."""
    data = plan.to_dict()
    for change in data["changes"]:
        if change["details"].get("sensitive"):  # said beside the nulls too, where a reader looks for the value
            change["sensitive"] = True
            for field_change in change["diff"]:
                field_change["sensitive"] = True
    data["summary"] = {str(action): count for action, count in Counter(c.action for c in plan.changes).items()}
    return data


def render_json(plan: Plan) -> str:
    return dumps(plan_json(plan))


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def json_schema_text(resource: str = SCHEMA_RESOURCE) -> str:
    return resources.files("reconciler").joinpath(resource).read_text(encoding="utf-8")
