"""Renderers of a Plan: text (terraform-like), json (versioned, documented), markdown (a pull-request
comment), prometheus (a node_exporter text file). They read the Plan value only; what reads
differently per kind of resource (a JetStream field's units, a revision's SQL) they choose by the
address's kind (common.py, database.py)."""

from __future__ import annotations

import time

from ..model import Plan
from .json import render_json
from .markdown import render_markdown
from .prometheus import render_prometheus
from .text import render_text

__all__ = ["RENDERERS", "render_json", "render_markdown", "render_prometheus", "render_text"]


def _prometheus_now(plan: Plan) -> str:
    return render_prometheus(plan, time.time())


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown, "prometheus": _prometheus_now}
