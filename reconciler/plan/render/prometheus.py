"""``jsctl plan -o prometheus``: a drift report for node_exporter's text-file collector.

Metrics (all gauges; the README lists them):

- ``jsctl_plan_resources{kind,action}``: resources in the plan by kind (``stream``, ``consumer``,
  ``db_table``, ...) and action (``create``, ``update``, ``drift``, ``unmanaged``, ...)
- ``jsctl_plan_changes``: resources apply would change; ``jsctl_plan_destructive_changes``
- ``jsctl_plan_pending_revisions``: database migrations not yet applied
- ``jsctl_plan_drift``: 1 when ``--detailed-exitcode`` would exit 2
- ``jsctl_plan_errors``: problems reported in the plan
- ``jsctl_plan_check_success``: 0 when the check itself failed (server unreachable, bad manifest)
- ``jsctl_plan_last_check_timestamp_seconds``: when the check ran (Unix time)

Every series of a plan carries the labels naming its target (common.target: ``server`` or ``cluster``,
``account``, ``domain``, ``database``), so that the reports of two checks on one host do not collide; a check that
failed before reaching the servers has none.

Pure: a function of the plan, the time and the error, so it is tested without servers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ..address import DB_REVISION
from ..model import Plan
from .common import target

PREFIX = "jsctl_plan_"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


Gauge = tuple[str, str, list[tuple[dict[str, str], float]]]  # name, help, samples (labels, value)


def render_prometheus(plan: Plan | None, checked_at: float) -> str:
    """The report; ``plan`` is None when the check failed before a plan existed (then only
    success and time are reported, so alerts on staleness and failure still work)."""
    return render_gauges(gauges(plan, checked_at))


def render_gauges(found: list[Gauge]) -> str:
    """The text format: each gauge's HELP and TYPE once, then its samples."""
    lines = []
    for name, help_text, samples in found:
        lines += [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} gauge"]
        lines += [f"{PREFIX}{name}{_labels(labels)} {_number(value)}" for labels, value in samples]
    return "\n".join(lines) + "\n"


def gauges(plan: Plan | None, checked_at: float, labels: Mapping[str, str] | None = None) -> list[Gauge]:
    """The report's gauges, every sample labelled with ``labels`` (environments.py: the environment), then
    the plan's target."""
    where = {**(labels or {}), **(target(plan.context) if plan is not None else {})}

    def gauge(name: str, help_text: str, samples: list[tuple[Mapping[str, str], float]]) -> list[Gauge]:
        return [(name, help_text, [({**where, **sample}, value) for sample, value in samples])]

    found = gauge("check_success", "1 if the drift check ran to the end, 0 if it failed.",
                  [({}, 0 if plan is None else 1)])
    found += gauge("last_check_timestamp_seconds", "When the drift check ran, in Unix time.", [({}, checked_at)])
    if plan is not None:
        by_kind_action = Counter((c.address.kind.label, str(c.action)) for c in plan.changes)
        found += gauge("resources", "Resources in the plan, by kind and action (changes and notes).",
                       [({"kind": kind, "action": action}, count)
                        for (kind, action), count in sorted(by_kind_action.items())])
        found += gauge("changes", "Resources that apply would change.", [({}, len(plan.pending))])
        found += gauge("destructive_changes", "Changes that destroy data (replace, delete).",
                       [({}, len(plan.destructive))])
        pending = sum(1 for c in plan.pending if c.address.kind is DB_REVISION)
        found += gauge("pending_revisions", "Database migrations not yet applied.", [({}, pending)])
        found += gauge("drift", "1 if live state differs from the manifests (plan --detailed-exitcode exits 2).",
                       [({}, 1 if plan.has_changes else 0)])
        found += gauge("errors", "Problems reported by the plan.", [({}, len(plan.errors))])
    return found
