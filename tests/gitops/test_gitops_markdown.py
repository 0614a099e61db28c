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


def test_one_collapsible_section_per_change_and_one_block_for_the_unmanaged():
    text = render_markdown(a_plan())
    sections = re.findall(r"<details><summary><code>(.*?)</code> (\w+).*?</summary>\n\n(.*?)\n\n</details>",
                          text, re.S)
    assert [(code, action) for code, action, _ in sections] == [
        ("+ stream/NEW", "create"), ("-/+ stream/ORDERS", "replace"), ("* consumer/ORDERS/W", "adopt")]
    assert text.count("<details>") == text.count("</details>") == 4
    bodies = {code: body for code, _, body in sections}
    assert bodies["-/+ stream/ORDERS"] == (
        '```diff\n- storage: "file"\n+ storage: "memory"\n  destroys: messages=12\n```')
    assert '+ subjects: ["new.>"]' in bodies["+ stream/NEW"]
    # The ownership mark is not a change a reviewer reads: the adopt's reason says it
    assert bodies["* consumer/ORDERS/W"] == "No field changes." and "io.jsctl" not in text
    assert text.endswith("<details><summary>1 unmanaged resource (in the account, not in the manifests)</summary>\n\n"
                         "- not in the manifests: &lt;left&gt; alone: `stream/BY_HAND`\n\n</details>\n")
    assert "&lt;left&gt;" in text and "<left>" not in text  # reasons are escaped inside HTML


def test_no_callout_without_destructive_changes():
    text = render_markdown(Plan([Change("stream/NEW", "create")]))
    assert "CAUTION" not in text and "<details>" in text


def test_the_why_of_an_update_names_its_fields_and_short_values():
    update = Change("stream/ORDERS", "update", [
        FieldChange("max_age", 7 * 86400 * 10**9, 86400 * 10**9), FieldChange("subjects", ["a.>"], ["a.>", "b.>"]),
        FieldChange("description", "x" * 40, "y"), FieldChange("metadata.io.jsctl.owner", None, "team-a"),
        FieldChange("max_msgs", 1, 2), FieldChange("max_bytes", 1, 2)],
        reason="not created by jsctl: this apply also marks it as managed")
    text = render_markdown(Plan([update]))
    row = next(line for line in text.splitlines() if line.startswith("| `~`"))
    assert row == ('| `~` | `stream/ORDERS` | update | max_age "7d" → "1d", subjects ["a.&gt;"] → '
                   '["a.&gt;", "b.&gt;"], description, max_msgs 1 → 2 and 1 more; not created by jsctl: this apply '
                   'also marks it as managed |')
    assert "io.jsctl" not in text and "+ max_bytes: 2" in text


def test_many_unmanaged_resources_are_one_block_by_reason():
    notes = [Change(f"stream/S{i}", "unmanaged", reason="not in the manifests: left alone") for i in range(50)]
    notes.append(Change("stream/OLD", "unmanaged",
                        reason="created by jsctl, no longer in the manifests: delete it with --prune"))
    text = render_markdown(Plan([Change("stream/NEW", "create"), *notes]))
    assert text.count("<details>") == 2 and text.count("stream/S") == 50 and "| `#`" not in text
    block = text[text.index("51 unmanaged resources"):]
    assert block.index("created by jsctl") < block.index("not in the manifests: left alone: `stream/S0`, `stream/S1`, ")


def test_the_target_is_named_at_the_top():
    single = {"nats": {"server_version": "2.12.8", "server_name": "n1", "api_level": 3, "cluster": None,
                       "account": "APP"}, "database": "postgresql://app:***@db:5432/app"}
    lines = render_markdown(Plan(context=single)).splitlines()
    assert lines[:3] == ["### jsctl plan", "", "**Target:** NATS server <code>n1</code> (nats-server 2.12.8), account "
                         "<code>APP</code>; database <code>postgresql://app:***@db:5432/app</code>"]
    clustered = {"nats": {"server_version": "2.11.11", "server_name": "n2", "api_level": 1, "cluster": "C<1>",
                          "account": None}}
    assert render_markdown(Plan(context=clustered)).splitlines()[2] == (
        "**Target:** NATS cluster <code>C&lt;1&gt;</code> (nats-server 2.11.11)")
    assert "Target" not in render_markdown(Plan())
    in_domain = {"nats": {**single["nats"], "domain": "leaf"}}
    assert render_markdown(Plan(context=in_domain)).splitlines()[2] == (
        "**Target:** NATS server <code>n1</code> (nats-server 2.12.8), account <code>APP</code>, "
        "JetStream domain <code>leaf</code>")
