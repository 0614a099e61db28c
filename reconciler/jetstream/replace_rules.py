"""What the connected nats-server cannot change in place: what needs a replace (delete + create), one
table; and the consumer_limits changes it refuses while a stream's consumers exceed them.

Every row was checked against nats-server's ``configUpdateCheck`` / ``checkNewConsumerConfig``,
measured on a real 2.12.8 (tests/jetstream/test_js_rules_server.py, one test per row) and on
2.10-2.15 (tests/matrix/test_rules_match_servers.py, against tests/data/server_versions/).
``pause_until`` is not here: an update never changes it, apply sends ``CONSUMER.PAUSE`` (execute.py).
Configs here are normalized dicts (see normalize.py): omitted and zero values are absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..manifest.model import CONSUMER, CONSUMER_LIMITS, STREAM
from .capabilities import Version, show_version

Predicate = Callable[[Any, Any], bool]


def changed(before: Any, after: Any) -> bool:
    return before != after


def turned_off(before: Any, after: Any) -> bool:
    return bool(before) and not after


def to_or_from(value: str) -> Predicate:
    return lambda before, after: before != after and value in (before or "limits", after or "limits")


def presence_changed(before: Any, after: Any) -> bool:
    return bool(before) != bool(after)


def set_or_changed(before: Any, after: Any) -> bool:
    return after is not None and before != after


def removed(before: Any, after: Any) -> bool:
    return before is not None and after is None


@dataclass(frozen=True)
class ReplaceRule:
    kind: str
    field: str
    applies: Predicate  # (live value, desired value) -> the server refuses this in place
    reason: str
    until: Version | None = None  # servers from this release on can change it in place
    since: Version | None = None  # servers before this release could change it in place

    def holds_on(self, server: Version) -> bool:
        return (self.since is None or server >= self.since) and (self.until is None or server < self.until)


REPLACE_RULES: tuple[ReplaceRule, ...] = (
    ReplaceRule(STREAM, "storage", changed, "the storage type cannot be changed"),
    ReplaceRule(STREAM, "retention", to_or_from("workqueue"), "retention cannot change to or from workqueue"),
    ReplaceRule(STREAM, "deny_delete", turned_off, "deny_delete cannot be turned off"),
    ReplaceRule(STREAM, "deny_purge", turned_off, "deny_purge cannot be turned off"),
    ReplaceRule(STREAM, "sealed", turned_off, "a sealed stream cannot be unsealed"),
    ReplaceRule(STREAM, "allow_msg_ttl", turned_off, "allow_msg_ttl cannot be turned off"),
    ReplaceRule(STREAM, "allow_msg_schedules", turned_off, "allow_msg_schedules cannot be turned off"),
    ReplaceRule(STREAM, "allow_msg_counter", changed, "allow_msg_counter cannot change after creation"),
    ReplaceRule(STREAM, "persist_mode", changed, "persist_mode cannot change after creation"),
    ReplaceRule(STREAM, "mirror", set_or_changed, "a stream cannot become a mirror or change its mirror"),
    ReplaceRule(STREAM, "mirror", removed, "a mirror cannot be promoted to a stream on this server",
                until=(2, 12, 0)),
    ReplaceRule(STREAM, "max_consumers", changed, "max_consumers cannot change on this server", until=(2, 12, 5)),
    ReplaceRule(CONSUMER, "deliver_policy", changed, "deliver_policy cannot change"),
    ReplaceRule(CONSUMER, "opt_start_seq", changed, "opt_start_seq cannot change"),
    ReplaceRule(CONSUMER, "opt_start_time", changed, "opt_start_time cannot change"),
    ReplaceRule(CONSUMER, "ack_policy", changed, "ack_policy cannot change"),
    ReplaceRule(CONSUMER, "replay_policy", changed, "replay_policy cannot change"),
    ReplaceRule(CONSUMER, "deliver_subject", presence_changed, "a consumer cannot switch between push and pull"),
    ReplaceRule(CONSUMER, "max_waiting", changed, "max_waiting cannot change"),
    ReplaceRule(CONSUMER, "idle_heartbeat", changed, "idle_heartbeat cannot change"),
    ReplaceRule(CONSUMER, "flow_control", changed, "flow_control cannot change"),
    ReplaceRule(CONSUMER, "mem_storage", changed, "mem_storage cannot change on this server", since=(2, 14, 0)),
)


def replace_reasons(kind: str, live: dict[str, Any], desired: dict[str, Any], server: Version) -> list[str]:
    """Why the connected server cannot turn ``live`` into ``desired`` in place (empty: it can)."""
    reasons = []
    for rule in REPLACE_RULES:
        if rule.kind != kind or not rule.holds_on(server):
            continue
        if rule.applies(live.get(rule.field), desired.get(rule.field)) and rule.reason not in reasons:
            reasons.append(rule.reason)
    return reasons


# ------------------------------------------------------------------ what a stream's consumers stop

# A changed consumer_limits is refused while a live consumer exceeds it ("change to limits violates
# consumers"). Servers before this release compare a limit left at 0 as 0, not as "no limit", so
# there a change (even removing the limits) is refused while any consumer has a max_ack_pending or
# an inactive_threshold the other limit does not cover (measured: 2.10.26, 2.11.11, 2.12.8 vs 2.14.6,
# 2.15.1; the source of 2.14.5 still compares 0 as 0).
ZERO_LIMIT_UNLIMITED_SINCE: Version = (2, 14, 6)


def limits_change_refused(live_limits: dict[str, Any] | None, limits: dict[str, Any] | None,
                          consumers: dict[str, dict[str, Any]], server: Version) -> str | None:
    """Why the server refuses changing a stream's consumer_limits from ``live_limits`` to ``limits``
    while it has ``consumers`` (name -> live config), or None when it does not."""
    from ..manifest.schema import field_in_units

    old, new = live_limits or {}, limits or {}
    zero_is_unlimited = server >= ZERO_LIMIT_UNLIMITED_SINCE
    checked = [f for f in CONSUMER_LIMITS if new.get(f, 0) > 0 or not zero_is_unlimited]
    if not any(old.get(f, 0) != new.get(f, 0) for f in checked):
        return None
    shown = field_in_units(CONSUMER)
    over = []
    for name in sorted(consumers):
        excess = [f"{f} {shown(f, consumers[name].get(f, 0))} > {shown(f, new.get(f, 0))}" for f in checked
                  if consumers[name].get(f, 0) > new.get(f, 0)]
        if excess:
            over.append(f"{name} ({', '.join(excess)})")
    if not over:
        return None
    zero = "" if zero_is_unlimited or all(new.get(f) for f in CONSUMER_LIMITS) else \
        f"; a limit left at 0 counts as 0 before nats-server {show_version(ZERO_LIMIT_UNLIMITED_SINCE)}"
    return (f"nats-server {show_version(server)} refuses this consumer_limits change while consumers exceed it: "
            f"{'; '.join(over)}. Lower them first (write the values in their manifests and apply), then change "
            f"the limits{zero}")
