"""Several environments' plans in one output (`plan --all-envs`), one section each, and their exit code.

A minimal version for e-proj's `--all-envs`: e-out owns this module and replaces it (prometheus labels,
markdown's destructive changes first)."""

from __future__ import annotations

import json

from ...errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from ..model import Plan
from . import RENDERERS


def render_environments(output: str, sections: list[tuple[str, Plan]]) -> str:
    """``sections`` (environment name, its plan), in order, in the ``output`` format."""
    if output == "json":
        return json.dumps({"format_version": 1, "environments": [
            {"name": name, "plan": json.loads(RENDERERS["json"](plan))} for name, plan in sections]}, indent=2)
    heading = "## Environment {}" if output == "markdown" else "=== environment {} ==="
    return "\n\n".join(f"{heading.format(name)}\n\n{RENDERERS[output](plan).rstrip()}" for name, plan in sections)


def worst_exit_code(codes: list[int]) -> int:
    """One exit code for several environments': an error wins, then changes."""
    for code in (EXIT_ERROR, EXIT_CHANGES):
        if code in codes:
            return code
    return max(codes, default=EXIT_OK)
