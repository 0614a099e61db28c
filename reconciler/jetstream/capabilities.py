"""What the connected nats-server supports: server versions, and which release has which field or value.

What it can change in place is replace_rules.py's. Every row was measured on 2.10-2.15
(tests/matrix/test_rules_match_servers.py, against tests/data/server_versions/).
"""

from __future__ import annotations

from typing import Any

from ..manifest.model import CONSUMER, KV, STREAM

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """``"2.12.8"`` / ``"v2.11.0-beta.1"`` -> ``(2, 12, 8)``; unknown parts count as 0."""
    core = text.lstrip("v").split("-", 1)[0].split("+", 1)[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]]
    return (*parts, 0, 0, 0)[:3]  # type: ignore[return-value]


def show_version(version: Version) -> str:
    return ".".join(map(str, version))


# ------------------------------------------------------------------ which server has which field

# (kind, field) -> the first nats-server release that knows it. Fields not listed exist since 2.10.0,
# the oldest server jsctl supports. 2.10 and 2.11 silently drop fields they do not know, so sending
# one would "succeed" and change nothing: planning stops with an error instead.
FIELD_SINCE: dict[tuple[str, str], Version] = {
    (STREAM, "allow_msg_ttl"): (2, 11, 0),
    (STREAM, "subject_delete_marker_ttl"): (2, 11, 0),
    (STREAM, "allow_msg_counter"): (2, 12, 0),
    (STREAM, "allow_atomic"): (2, 12, 0),
    (STREAM, "allow_msg_schedules"): (2, 12, 0),
    (STREAM, "persist_mode"): (2, 12, 0),
    (STREAM, "allow_batched"): (2, 14, 0),  # 2.12.8 rejects it as an unknown field (measured)
    (KV, "limit_marker_ttl"): (2, 11, 0),  # its stream fields: 2.10 drops them, and the bucket's markers with them
    (CONSUMER, "pause_until"): (2, 11, 0),
    (CONSUMER, "priority_groups"): (2, 11, 0),
    (CONSUMER, "priority_policy"): (2, 11, 0),
    (CONSUMER, "priority_timeout"): (2, 11, 0),
    (CONSUMER, "sourcing"): (2, 14, 0),  # manifests may only write it false; 2.12 refuses even that (measured)
}

# (kind, field, value) -> the first release accepting that enum value.
VALUE_SINCE: dict[tuple[str, str, Any], Version] = {
    (CONSUMER, "priority_policy", "prioritized"): (2, 12, 0),
    (CONSUMER, "ack_policy", "flow_control"): (2, 14, 0),  # 2.12.8 cannot unmarshal it (measured)
}


def unsupported(kind: str, config: dict[str, Any], server: Version) -> list[str]:
    """Messages for each field (or value) of ``config`` the connected server does not have."""
    problems = []
    for field_name, value in config.items():
        since = FIELD_SINCE.get((kind, field_name))
        if since and server < since:
            problems.append(f"field {field_name} needs nats-server {show_version(since)} or newer "
                            f"(connected server: {show_version(server)})")
            continue
        since = VALUE_SINCE.get((kind, field_name, value)) if isinstance(value, str) else None
        if since and server < since:
            problems.append(f"{field_name}: {value} needs nats-server {show_version(since)} or newer "
                            f"(connected server: {show_version(server)})")
    return problems
