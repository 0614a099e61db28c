"""A small stand-in for the GitHub Actions runner, enough to run hack/ci-workflow.yaml's jobs for real:
job and step conditions (``if:``), ``${{ }}`` expressions, env at every level, ``run:`` steps in bash as
Actions runs them, step outputs ($GITHUB_OUTPUT) and the run's summary ($GITHUB_STEP_SUMMARY).
``uses:`` steps are emulated: checkout (the workspace is already there), setup-python (the test's Python),
upload-artifact (a directory per run and artifact, which the fake `gh` serves to `gh run download`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STEP_TIMEOUT_S = 300
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# a context path (github.event.pull_request.number, steps.upload.outputs.artifact-url) or a function name
NAME = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+)*")


def load_workflow(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    return workflow


def evaluate(expression: str, context: dict[str, Any], status: dict[str, bool] | None = None) -> Any:
    """A GitHub expression (the subset the workflow uses: context paths, string and boolean literals,
    == != ! && || and parentheses, the status functions), as Python evaluates the same operators."""
    status = status or {"failed": False}
    functions = {"success": lambda: not status["failed"], "failure": lambda: status["failed"],
                 "always": lambda: True, "cancelled": lambda: False}
    literals = {"true": "True", "false": "False", "null": "None"}
    python = []
    for i, part in enumerate(re.split(r"('(?:[^']|'')*')", expression)):
        if i % 2:  # a string literal
            python.append(repr(part[1:-1].replace("''", "'")))
            continue
        part = part.replace("&&", " and ").replace("||", " or ")
        part = re.sub(r"!(?!=)", " not ", part)
        python.append(NAME.sub(lambda m: literals.get(m[0]) or (
            m[0] if m[0] in functions or m[0] in ("and", "or", "not") else f"_ctx({m[0]!r})"), part))

    def lookup(path: str) -> Any:
        value: Any = context
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else value

    return eval("".join(python), {"__builtins__": {}, "_ctx": lookup, **functions})  # the workflow's own text


def substitute(text: str, context: dict[str, Any]) -> str:
    def value(match: re.Match) -> str:
        result = evaluate(match[1], context)
        return str(result).lower() if isinstance(result, bool) else str(result)
    return EXPRESSION.sub(value, str(text))


def condition(text: str | bool | None, context: dict[str, Any], status: dict[str, bool]) -> bool:
    if text is None:
        return not status["failed"]  # success(), the default
    if isinstance(text, bool):
        return text
    match = EXPRESSION.fullmatch(text.strip())
    return bool(evaluate(match[1] if match else text, context, status))


@dataclass
class Run:
    """One workflow run: its context and what it left (artifacts, summary, each step's outcome)."""

    run_id: int
    context: dict[str, Any]
    artifacts: Path
    outcomes: dict[str, str] = field(default_factory=dict)  # step name -> success/failure/skipped
    summary: str = ""
    logs: dict[str, str] = field(default_factory=dict)  # step name -> stdout + stderr
    result: str = "skipped"  # the job's


def run_job(workflow: dict, job_name: str, run: Run, workspace: Path, machine_env: dict[str, str]) -> Run:
    """Run job ``job_name`` of ``workflow`` in ``workspace``; ``machine_env`` is the runner's own environment
    (PATH with the fake tools first)."""
    job = workflow["jobs"][job_name]
    context = run.context
    context.setdefault("steps", {})
    if not condition(job.get("if"), context, {"failed": False}):
        return run
    env = {**{k: substitute(v, context) for k, v in workflow.get("env", {}).items()},
           **{k: substitute(v, context) for k, v in job.get("env", {}).items()}}
    context["env"] = env
    status = {"failed": False}
    summary = workspace.parent / f"summary-{run.run_id}.md"
    summary.touch()
    for number, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or f"step {number}"
        if not condition(step.get("if"), context, status):
            run.outcomes[name] = "skipped"
            if "id" in step:
                context["steps"][step["id"]] = {"outcome": "skipped", "outputs": {}}
            continue
        outputs: dict[str, str] = {}
        if "uses" in step:
            ok = _use(step, context, run, workspace, outputs)
        else:
            step_env = {k: substitute(v, context) for k, v in step.get("env", {}).items()}
            output_file = workspace.parent / f"output-{run.run_id}-{number}"
            output_file.write_text("")
            full_env = {**machine_env, **env, **step_env, "GITHUB_OUTPUT": str(output_file),
                        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_REPOSITORY": context["github"]["repository"],
                        "GITHUB_SHA": context["github"]["sha"], "GITHUB_RUN_ID": str(run.run_id),
                        "GITHUB_WORKSPACE": str(workspace)}
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=workspace, env=full_env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
            run.logs[name] = done.stdout + done.stderr
            outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
            ok = done.returncode == 0
        run.outcomes[name] = "success" if ok else "failure"
        status["failed"] |= not ok
        if "id" in step:
            context["steps"][step["id"]] = {"outcome": run.outcomes[name], "outputs": outputs}
    run.summary = summary.read_text()
    run.result = "failure" if status["failed"] else "success"
    return run


def _use(step: dict, context: dict, run: Run, workspace: Path, outputs: dict[str, str]) -> bool:
    action = step["uses"].split("@")[0]
    inputs = {k: substitute(v, context) for k, v in step.get("with", {}).items()}
    if action in ("actions/checkout", "actions/setup-python"):
        return True
    if action == "actions/upload-artifact":
        target = run.artifacts / str(run.run_id) / inputs["name"]
        target.mkdir(parents=True)
        for line in inputs["path"].split():
            shutil.copy(workspace / line, target / line)
        outputs["artifact-url"] = (f"{context['github']['server_url']}/{context['github']['repository']}/actions/"
                                   f"runs/{run.run_id}/artifacts/{run.run_id}1")
        return True
    raise AssertionError(f"the test runner does not know the action {action}")
