"""`-o markdown` for pull-request comments: destructive changes first, one collapsible section per resource."""

from __future__ import annotations

import re

from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.plan.render.markdown import render_markdown


def a_plan() -> Plan:
    return Plan([
        Change("stream/NEW", "create", desired={"name": "NEW", "subjects": ["new.>"]}),
        Change("stream/ORDERS", "replace", [FieldChange("storage", "file", "memory")], destructive=True,
               reason="the storage type cannot be changed", details={"destroys": {"messages": 12}}),
        Change("consumer/ORDERS/W", "adopt", [FieldChange("metadata.io.jsctl.managed", None, "true")],
               reason="exists but was not created by jsctl"),
        Change("stream/BY_HAND", "unmanaged", reason="not in the manifests: <left> alone"),
    ])


def test_destructive_changes_come_first():
    lines = render_markdown(a_plan()).splitlines()
    assert lines[0] == "### jsctl plan"
    first_text = next(line for line in lines[1:] if line)
    assert first_text == "> [!CAUTION]"
    assert "> - `stream/ORDERS` replace: the storage type cannot be changed" in lines
    assert lines.index("> [!CAUTION]") < min(i for i, line in enumerate(lines) if line.startswith("<details>"))


def test_one_collapsible_section_per_resource():
    text = render_markdown(a_plan())
    sections = re.findall(r"<details><summary><code>(.*?)</code> (\w+).*?</summary>\n\n(.*?)\n\n</details>",
                          text, re.S)
    assert [(code, action) for code, action, _ in sections] == [
        ("+ stream/NEW", "create"), ("-/+ stream/ORDERS", "replace"), ("* consumer/ORDERS/W", "adopt"),
        ("# stream/BY_HAND", "unmanaged")]
    assert text.count("<details>") == text.count("</details>") == 4
    bodies = {code: body for code, _, body in sections}
    assert bodies["-/+ stream/ORDERS"] == (
        '```diff\n- storage: "file"\n+ storage: "memory"\n  destroys: messages=12\n```')
    assert '+ subjects: ["new.>"]' in bodies["+ stream/NEW"]
    assert bodies["# stream/BY_HAND"] == "No field changes."
    assert "&lt;left&gt;" in text and "<left>" not in text  # reasons are escaped inside HTML


def test_no_callout_without_destructive_changes():
    text = render_markdown(Plan([Change("stream/NEW", "create")]))
    assert "CAUTION" not in text and "<details>" in text
