"""The plans of several environments in one output (`jsctl plan --all-envs`), in every format, built on
the one-plan renderers; and the one exit code of the run.

An environment whose plan could not be made (its server unreachable, its manifests invalid) is a
``PlanFailed`` in its section: the other environments are still shown, and the section says why.

- text: one section per environment under ``=== environment NAME ===``, then one summary line each;
- json: ``{"format_version": 1, "environments": [{"name", "plan"} | {"name", "error", "exit_code"}]}``,
  described by schemas/plan-environments.schema.json (``environments_schema``: with the plan's schema
  bundled in, as `jsctl plan --print-environments-schema` prints it);
- prometheus: every sample labelled ``environment="NAME"``, each metric's HELP and TYPE once;
- markdown: the destructive changes of every environment at the top, a table of the environments, then
  one section per environment.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from typing import Any

from ...errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, JsctlError, scrub
from ...terminal import printable, printable_lines
from ..model import Plan
from ..policy import plan_exit_code
from .common import summary
from .json import dumps, json_schema_text, plan_json
from .markdown import caution, render_markdown
from .prometheus import Gauge, gauges, render_gauges
from .text import render_text

FORMAT_VERSION = 1
SCHEMA_RESOURCE = "schemas/plan-environments.schema.json"
PLAN_SCHEMA_ID = "urn:jsctl:schema:plan"  # how the envelope's schema refers to the plan's (bundled under it)


@dataclass(frozen=True)
class PlanFailed:
    """An environment whose plan failed: the error's line (secrets scrubbed) and the exit code it carries."""

    message: str
    exit_code: int = EXIT_ERROR

    @classmethod
    def of(cls, error: JsctlError) -> PlanFailed:
        return cls(scrub(str(error)), error.exit_code)


Outcome = Plan | PlanFailed
Section = tuple[str, Outcome]  # (environment name, its plan or why there is none)

# From best to worst: nothing to do, changes, refused (a decision is needed), failed. A code not listed
# (130: interrupted) is worse than all of them.
_SEVERITY = [EXIT_OK, EXIT_CHANGES, EXIT_REFUSED, EXIT_ERROR]


def worst_exit_code(codes: list[int]) -> int:
    """The exit code of a run over several environments: the worst of theirs (0 when there are none)."""
    return max(codes, key=lambda c: _SEVERITY.index(c) if c in _SEVERITY else len(_SEVERITY), default=EXIT_OK)


def exit_code(outcome: Outcome, detailed_exitcode: bool) -> int:
    """One environment's code, as `jsctl plan` alone would exit: 1 for a plan with errors, 2 for changes with
    ``detailed_exitcode``, the failure's own code."""
    return outcome.exit_code if isinstance(outcome, PlanFailed) else plan_exit_code(outcome, detailed_exitcode)


def render_environments(output: str, sections: list[Section], *, checked_at: float | None = None) -> str:
    """``sections`` in the format ``output`` (text, json, markdown, prometheus); ``checked_at``: the
    prometheus report's time (default: now)."""
    if output == "prometheus":
        return _prometheus(sections, time.time() if checked_at is None else checked_at)
    return {"text": _text, "json": _json, "markdown": _markdown}[output](sections)


def _failure(failed: PlanFailed) -> str:
    return f"the plan failed (exit {failed.exit_code}): {failed.message}"


def _summary_line(outcome: Outcome) -> str:
    return summary(outcome) if isinstance(outcome, Plan) else f"failed (exit {outcome.exit_code})"


def _text(sections: list[Section]) -> str:
    out = []
    for name, outcome in sections:
        out.append(printable(f"=== environment {name} ==="))
        if isinstance(outcome, Plan):
            out.append(render_text(outcome))
        else:  # a manifest error lists its problems one a line
            out += [printable(line) for line in f"error: {_failure(outcome)}".splitlines()]
        out.append("")
    out.append("Environments:")
    out += [printable(f"  {name}: {_summary_line(outcome)}") for name, outcome in sections]
    return "\n".join(out)


def _json(sections: list[Section]) -> str:
    environments = [{"name": name, "plan": plan_json(outcome)} if isinstance(outcome, Plan)
                    else {"name": name, "error": outcome.message, "exit_code": outcome.exit_code}
                    for name, outcome in sections]
    return dumps({"format_version": FORMAT_VERSION, "environments": environments})


def _prometheus(sections: list[Section], checked_at: float) -> str:
    merged: dict[str, Gauge] = {}  # by metric name, in the order first seen: HELP and TYPE once each
    for name, outcome in sections:
        plan = outcome if isinstance(outcome, Plan) else None
        for metric, help_text, samples in gauges(plan, checked_at, {"environment": name}):
            merged.setdefault(metric, (metric, help_text, []))[2].extend(samples)
    return render_gauges(list(merged.values()))


def _name(name: str) -> str:
    return f"<code>{html.escape(name)}</code>"


def _markdown(sections: list[Section]) -> str:
    count = len(sections)
    out = [f"### jsctl plan: {count} environment{'s' if count != 1 else ''}", ""]
    out += caution([(f"{_name(name)}: ", change) for name, outcome in sections if isinstance(outcome, Plan)
                    for change in outcome.destructive])
    out += ["| environment | plan |", "| --- | --- |"]
    for name, outcome in sections:
        line = _summary_line(outcome) if isinstance(outcome, Plan) else \
            f"**{_failure(outcome).splitlines()[0]}**"
        out.append(f"| {_name(name)} | {html.escape(line, quote=False).replace('|', chr(92) + '|')} |")
    for name, outcome in sections:
        heading = f"#### Environment {_name(name)}"
        if isinstance(outcome, Plan):
            out += ["", *render_markdown(outcome, heading).splitlines()]
        else:
            out += ["", heading, "", "> [!WARNING]", f"> The plan failed (exit {outcome.exit_code}):", "",
                    "```text", *outcome.message.replace("```", "'''").splitlines(), "```"]
    return printable_lines(out) + "\n"


def environments_schema() -> dict[str, Any]:
    """The JSON Schema of the envelope with the plan's schema bundled in (JSON Schema 2020-12's way: an
    embedded resource under its ``$id``), so that it validates on its own."""
    envelope = json.loads(json_schema_text(SCHEMA_RESOURCE))
    envelope.setdefault("$defs", {})["plan"] = {**json.loads(json_schema_text()), "$id": PLAN_SCHEMA_ID}
    return envelope
