"""A Plan as JSON: the documented, versioned form (``Plan.to_dict``, schemas/plan.schema.json) and a summary."""

from __future__ import annotations

import json
from collections import Counter

from ..model import Plan


def render_json(plan: Plan) -> str:
    data = plan.to_dict()
    data["summary"] = {str(action): count for action, count in Counter(c.action for c in plan.changes).items()}
    return json.dumps(data, indent=2, sort_keys=False, default=str)
