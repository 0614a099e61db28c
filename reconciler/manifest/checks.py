"""Semantic rules: what the JSON Schema cannot say but nats-server would refuse (or silently change).

Each rule mirrors a check of nats-server's ``checkStreamCfg`` (stream.go) or ``checkConsumerCfg`` /
``addConsumerWithAssignment`` (consumer.go), 2.10 through 2.15, or catches a declaration the server
would store differently from how it was written (so plans would never converge). Rules see configs
after unit conversion and only the fields written; server defaults are spelled out where needed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from .item import Item
from .load import Path_, Problem
from .model import CONSUMER, STREAM, inherited_limits
from .subjects import SubjectIndex, character_problem, covers, has_wildcard, overlaps, subject_problem
from .suggest import did_you_mean

Report = Callable[..., None]  # report(field_path, message)
Config = dict[str, Any]

MS = 1_000_000
SECOND = 1_000 * MS
MAX_METADATA_BYTES = 128 * 1024  # JSMaxMetadataLen
MAX_DESCRIPTION_BYTES = 4 * 1024  # JSMaxDescriptionLen
_PRIORITY_GROUP = re.compile(r"^[a-zA-Z0-9/_=-]{1,16}$")  # nats-server's validGroupName
_API_SPACES = ("$JS.>", "$JSC.>", "$NRG.>", "$SYS.>")
_API_EXCEPTIONS = ("$JS.EVENT.>", "$SYS.ACCOUNT.>")


def check_items(items: list[Item], problems: list[Problem]) -> None:
    streams = unique_items(items, STREAM, lambda item: item.name, "stream", problems)
    consumers = unique_items(items, CONSUMER, _consumer_key, "consumer", problems)
    for item in streams.values():
        if item.checked:
            report = reporter(item, problems)
            for rule in STREAM_RULES:
                rule(item.config, report)
    for item in consumers.values():
        stream = _consumer_stream(item, streams, problems)
        if item.checked:
            report, stream_config = reporter(item, problems), stream.config if stream and stream.checked else None
            for rule in CONSUMER_RULES:
                rule(item.config, stream_config, report)
    _check_stream_subject_overlaps([item for item in streams.values() if item.checked], problems)
    _check_mirror_direct(streams, problems)
    _check_consumer_subjects(streams, consumers, problems)
    _check_workqueue_consumers(streams, consumers, problems)


def reporter(item: Item, problems: list[Problem]) -> Report:
    return lambda field, message: problems.append(item.problem(field, message))


def unique_items(items: list[Item], kind: str, key: Callable[[Item], Any], word: str,
            problems: list[Problem]) -> dict[Any, Item]:
    """Items of ``kind`` by key; a second item with the same key is a duplicate resource."""
    found: dict[Any, Item] = {}
    for item in items:
        if item.kind != kind or not isinstance(item.name, str) or not item.name or key(item) is None:
            continue  # no usable name: the schema errors say why
        first = found.setdefault(key(item), item)
        if first is not item:
            problems.append(item.problem((item.name_field,), f"duplicate {word} {item.name!r} "
                                                              f"(first declared at {first.origin})"))
    return found


def _consumer_key(item: Item) -> tuple[str, str] | None:
    stream = item.config.get("stream")
    return (stream, item.name) if isinstance(stream, str) and stream else None


def _consumer_stream(item: Item, streams: dict[str, Item], problems: list[Problem]) -> Item | None:
    name = item.config.get("stream")
    if not isinstance(name, str) or not name:
        return None
    stream = streams.get(name)
    if stream is None:
        hint = did_you_mean(name, sorted(streams))
        problems.append(item.problem(("stream",), f"consumer on undeclared stream {name!r}{hint}"))
    return stream


def stream_subjects(config: Config) -> list[str]:
    """The subjects a stream captures: its own, or its name when it has none and is no mirror or sourcer."""
    subjects = config.get("subjects") or []
    if subjects or config.get("mirror") or config.get("sources"):
        return list(subjects)
    return [config.get("name", "")]


def _filters(config: Config) -> list[tuple[Path_, str]]:
    if config.get("filter_subject"):
        return [(("filter_subject",), config["filter_subject"])]
    return [(("filter_subjects", index), subject) for index, subject in enumerate(config.get("filter_subjects") or [])]


def _valid_filters(config: Config) -> list[tuple[Path_, str]]:
    """The consumer's valid filters; none when it writes both fields (one error says so)."""
    if config.get("filter_subject") and config.get("filter_subjects"):
        return []
    return [(path, subject) for path, subject in _filters(config) if not subject_problem(subject)]


def _is_push(config: Config) -> bool:
    return bool(config.get("deliver_subject"))


def _utf8_bytes(text: str) -> int:
    """Go's len() of the string the server decodes (a lone surrogate becomes U+FFFD: also 3 bytes)."""
    return len(text.encode("utf-8", "surrogatepass"))


def text_rules(config: Config, report: Report) -> None:
    """The server's limits on a stream's or consumer's free text, which it counts in bytes; metadata keys
    show in plans as field paths (metadata.KEY), so they hold no control or invisible character."""
    if _utf8_bytes(config.get("description", "")) > MAX_DESCRIPTION_BYTES:
        report(("description",), f"description is longer than the server's limit of {MAX_DESCRIPTION_BYTES} "
                                 "bytes (UTF-8)")
    metadata = config.get("metadata") or {}
    if sum(_utf8_bytes(key) + _utf8_bytes(value) for key, value in metadata.items()) > MAX_METADATA_BYTES:
        report(("metadata",), "metadata is larger than the server's limit of 128KB")
    for key in metadata:
        _check_characters(key, ("metadata", key), report, spaces=True)


# ---------------------------------------------------------------- stream rules


def stream_subjects_valid(config: Config, report: Report) -> None:
    valid = []
    for index, subject in enumerate(config.get("subjects") or []):
        problem = subject_problem(subject)
        if problem:
            report(("subjects", index), problem)
        else:
            valid.append((("subjects", index), subject))
    for path, subject, earlier in _overlapping_earlier(valid):
        report(path, f"duplicate subject {subject!r}" if subject == earlier
               else f"subject {subject!r} overlaps with {earlier!r} of the same stream")


def _overlapping_earlier(subjects: list[tuple[Path_, str]]) -> Iterator[tuple[Path_, str, str]]:
    """(path, subject, earlier subject) for each valid subject overlapping one listed before it (the first such)."""
    if len(subjects) < 2:
        return  # the usual case: no index to build
    index: SubjectIndex[None] = SubjectIndex()
    for path, subject in subjects:
        clash = index.first_overlap(subject)
        if clash:
            yield path, subject, clash[0]
        index.add(subject, None)


def stream_api_subjects(config: Config, report: Report) -> None:
    no_ack = config.get("no_ack", False)
    for index, subject in enumerate(config.get("subjects") or []):
        if subject == ">":
            if not no_ack or config.get("num_replicas", 1) != 1:
                report(("subjects", index), "capturing every subject ('>') needs no_ack: true and num_replicas: 1")
        elif not no_ack and not subject_problem(subject) and \
                any(overlaps(subject, space) for space in _API_SPACES) and \
                not any(covers(exception, subject) for exception in _API_EXCEPTIONS):
            report(("subjects", index), f"subject {subject!r} overlaps the JetStream/system API: it needs no_ack: true")


def stream_limits(config: Config, report: Report) -> None:
    max_age = config.get("max_age", 0)
    if 0 < max_age < 100 * MS:
        report(("max_age",), "max_age must be 0 (unlimited) or at least 100ms")
    window = config.get("duplicate_window", 0)
    if 0 < window < 100 * MS:
        report(("duplicate_window",), "duplicate_window must be at least 100ms")
    if max_age and window > max_age:
        report(("duplicate_window",), "duplicate_window cannot be longer than max_age")
    text_rules(config, report)


def stream_rollups(config: Config, report: Report) -> None:
    if config.get("deny_purge") and config.get("allow_rollup_hdrs"):
        report(("allow_rollup_hdrs",), "allow_rollup_hdrs needs purging: it cannot go with deny_purge: true")


def stream_sealed(config: Config, report: Report) -> None:
    """Sealing makes the server set these fields; declaring other values would never converge."""
    if not config.get("sealed"):
        return
    forced = {"allow_rollup_hdrs": False, "max_age": 0, "discard": "new", "deny_delete": True, "deny_purge": True}
    for field, value in forced.items():
        if field in config and config[field] != value:
            report((field,), f"a sealed stream has {field}: {_yaml(value)} (the server sets it when sealing)")


def stream_discard_new_per_subject(config: Config, report: Report) -> None:
    if not config.get("discard_new_per_subject"):
        return
    if config.get("discard", "old") != "new":
        report(("discard_new_per_subject",), "discard_new_per_subject needs discard: new")
    if config.get("max_msgs_per_subject", -1) <= 0:
        report(("discard_new_per_subject",), "discard_new_per_subject needs max_msgs_per_subject > 0")


def stream_counter(config: Config, report: Report) -> None:
    if not config.get("allow_msg_counter"):
        return
    if config.get("discard") == "new":
        report(("allow_msg_counter",), "a counter stream cannot use discard: new")
    if config.get("allow_msg_ttl"):
        report(("allow_msg_counter",), "a counter stream cannot use allow_msg_ttl")
    if config.get("allow_msg_schedules"):
        report(("allow_msg_counter",), "a counter stream cannot use allow_msg_schedules")
    if config.get("retention", "limits") != "limits":
        report(("allow_msg_counter",), "a counter stream needs retention: limits")


def stream_delete_markers(config: Config, report: Report) -> None:
    ttl = config.get("subject_delete_marker_ttl", 0)
    if not ttl:
        return
    if ttl < SECOND:
        report(("subject_delete_marker_ttl",), "subject_delete_marker_ttl must be at least 1s")
    # Without these the server turns them on by itself, and the live stream would differ from the manifest.
    if not config.get("allow_msg_ttl"):
        report(("subject_delete_marker_ttl",), "subject_delete_marker_ttl needs allow_msg_ttl: true")
    if not config.get("allow_rollup_hdrs"):
        report(("subject_delete_marker_ttl",), "subject_delete_marker_ttl needs allow_rollup_hdrs: true")


def stream_schedules(config: Config, report: Report) -> None:
    if not config.get("allow_msg_schedules"):
        return
    if config.get("discard") == "new":
        report(("allow_msg_schedules",), "message schedules cannot use discard: new")
    if not config.get("allow_rollup_hdrs"):
        report(("allow_msg_schedules",), "allow_msg_schedules needs allow_rollup_hdrs: true (the server turns it on)")
    if config.get("sources"):
        report(("allow_msg_schedules",), "a stream with sources cannot use allow_msg_schedules")


def stream_persist_mode(config: Config, report: Report) -> None:
    if config.get("persist_mode") != "async":
        return
    if config.get("storage", "file") != "file":
        report(("persist_mode",), "persist_mode: async needs storage: file")
    if config.get("num_replicas", 1) > 1:
        report(("persist_mode",), "persist_mode: async is not supported on replicated streams (num_replicas > 1)")
    if config.get("allow_atomic"):
        report(("persist_mode",), "persist_mode: async cannot go with allow_atomic")


_MIRROR_EXCLUDES = {
    "subjects": "a mirror cannot have subjects (it stores the origin's)",
    "sources": "a stream cannot be both a mirror and have sources",
    "first_seq": "a mirror cannot set first_seq",
    "allow_msg_counter": "a mirror cannot be a counter stream",
    "allow_atomic": "a mirror cannot allow atomic publishes",
    "allow_batched": "a mirror cannot allow batched publishes",
    "allow_msg_schedules": "a mirror cannot allow message schedules",
    "subject_delete_marker_ttl": "a mirror cannot have subject delete markers",
}


def stream_mirror(config: Config, report: Report) -> None:
    mirror = config.get("mirror")
    if not mirror:
        return
    for field, message in _MIRROR_EXCLUDES.items():
        if config.get(field):
            report((field,), message)
    _check_origin(mirror, ("mirror",), report)
    _check_external(mirror, ("mirror",), report)


def stream_sources(config: Config, report: Report) -> None:
    seen: set[tuple] = set()
    for index, source in enumerate(config.get("sources") or []):
        key = (source.get("name"), (source.get("external") or {}).get("api"), source.get("filter_subject"),
               tuple((t.get("src"), t.get("dest")) for t in source.get("subject_transforms") or []))
        if key in seen:
            report(("sources", index), f"duplicate source {source.get('name')!r} (same stream, filter and transforms)")
        seen.add(key)
        _check_origin(source, ("sources", index), report)
        _check_external(source, ("sources", index), report)


OWN_API_PREFIX = "$JS.API"


def _check_external(origin: Config, at: Path_, report: Report) -> None:
    """A mirror or source in another JetStream domain or account, as nats-server's checkStreamCfg takes it:
    ``api`` a literal subject other than the account's own ``$JS.API`` (a domain's is ``$JS.<domain>.API``),
    ``deliver`` a literal subject."""
    external = origin.get("external")
    if not isinstance(external, dict):
        return
    at = (*at, "external")
    api, deliver = external.get("api"), external.get("deliver")
    if isinstance(api, str) and not character_problem(api):
        problem = _literal_subject_problem(api, "the other domain's or account's API prefix, e.g. $JS.hub.API")
        if problem:
            report((*at, "api"), problem)
        elif api == OWN_API_PREFIX:
            report((*at, "api"), f"{OWN_API_PREFIX} is this account's own API: name the other domain's "
                                 "($JS.<domain>.API) or the prefix another account's API is imported under")
    if isinstance(deliver, str) and deliver and not character_problem(deliver):
        problem = _literal_subject_problem(deliver, "the subject prefix the origin's messages are delivered on")
        if problem:
            report((*at, "deliver"), problem)


def _literal_subject_problem(prefix: str, what: str) -> str | None:
    if not prefix:
        return f"must not be empty: {what}"
    problem = subject_problem(prefix)
    if problem is None and has_wildcard(prefix):
        problem = f"{prefix!r} has a wildcard"
    return f"{problem}: {what}, a subject without wildcards" if problem else None


def _check_origin(origin: Config, at: Path_, report: Report) -> None:
    """Rules shared by a mirror and each source."""
    transforms = origin.get("subject_transforms") or []
    for index, transform in enumerate(transforms):
        _check_destination(transform, (*at, "subject_transforms", index), report)
    for field in ("api", "deliver"):  # subject prefixes
        _check_characters((origin.get("external") or {}).get(field, ""), (*at, "external", field), report)
    if origin.get("filter_subject") and transforms:
        report((*at, "filter_subject"), "use either filter_subject or subject_transforms, not both")
    if origin.get("filter_subject"):
        problem = subject_problem(origin["filter_subject"])
        if problem:
            report((*at, "filter_subject"), problem)
    sources: list[tuple[Path_, str]] = []
    for index, transform in enumerate(transforms):
        source, path = transform.get("src", ""), (*at, "subject_transforms", index, "src")
        problem = source and subject_problem(source)
        if problem:
            report(path, problem)
        elif source:
            sources.append((path, source))
    for path, source, earlier in _overlapping_earlier(sources):
        report(path, f"{source!r} overlaps {earlier!r}")
    consumer = origin.get("consumer")
    if consumer:
        if subject_problem(consumer.get("deliver_subject", "")) or has_wildcard(consumer.get("deliver_subject", "")):
            report((*at, "consumer", "deliver_subject"), "deliver_subject must be a valid subject without wildcards")
        for field in ("opt_start_seq", "opt_start_time", "filter_subject"):
            if origin.get(field):
                report((*at, field), f"{field} cannot go with a durable origin consumer")


def _check_destination(transform: Config, at: Path_, report: Report) -> None:
    """A transform's destination: its mapping functions may hold spaces (nats-server's ValidateMapping)."""
    _check_characters(transform.get("dest", ""), (*at, "dest"), report, spaces=True)


def _check_characters(text: str, at: Path_, report: Report, *, spaces: bool = False) -> None:
    problem = character_problem(text, spaces=spaces)
    if problem:
        report(at, f"{text!r} {problem}")


def stream_transforms(config: Config, report: Report) -> None:
    transform = config.get("subject_transform")
    if transform:
        _check_destination(transform, ("subject_transform",), report)
    if transform and transform.get("src"):
        problem = subject_problem(transform["src"])
        if problem:
            report(("subject_transform", "src"), problem)
    republish = config.get("republish")
    if republish:
        source = republish.get("src") or ">"
        problem = subject_problem(source)
        if problem:
            report(("republish", "src"), problem)
        destination = republish.get("dest", "")
        problem = subject_problem(destination)
        if problem:
            report(("republish", "dest"), problem)
        elif any(overlaps(destination, subject) for subject in config.get("subjects") or []):
            report(("republish", "dest"), f"republishing to {destination!r} would feed the stream its own messages")


def stream_placement(config: Config, report: Report) -> None:
    if (config.get("placement") or {}).get("preferred"):
        report(("placement", "preferred"), "the server does not accept a preferred server in a stream's placement")


STREAM_RULES: list[Callable[[Config, Report], None]] = [
    stream_subjects_valid, stream_api_subjects, stream_limits, stream_rollups, stream_sealed,
    stream_discard_new_per_subject, stream_counter, stream_delete_markers, stream_schedules,
    stream_persist_mode, stream_mirror, stream_sources, stream_transforms, stream_placement,
]


# ---------------------------------------------------------------- consumer rules

ConsumerRule = Callable[[Config, Config | None, Report], None]


def consumer_names(config: Config, stream: Config | None, report: Report) -> None:
    durable, name = config.get("durable_name"), config.get("name")
    if durable and name and durable != name:
        report(("name",), f"name {name!r} differs from durable_name {durable!r}: give one, or both equal")


_START_FIELDS = {"by_start_sequence": "opt_start_seq", "by_start_time": "opt_start_time"}


def consumer_start(config: Config, stream: Config | None, report: Report) -> None:
    policy = config.get("deliver_policy", "all")
    for wanted_policy, field in _START_FIELDS.items():
        given = config.get(field)
        if policy == wanted_policy and not given:
            report(("deliver_policy",), f"deliver_policy {policy} needs {field}")
        elif policy != wanted_policy and given:
            report((field,), f"{field} is only for deliver_policy: {wanted_policy} (here: {policy})")
    if policy == "last_per_subject" and not _filters(config):
        report(("deliver_policy",), "deliver_policy last_per_subject needs filter_subject or filter_subjects")


def consumer_filters(config: Config, stream: Config | None, report: Report) -> None:
    """Each filter valid, none overlapping another; whether they match the stream's subjects is checked
    with all its consumers at once (_check_consumer_subjects)."""
    if config.get("filter_subject") and config.get("filter_subjects"):
        report(("filter_subjects",), "use either filter_subject or filter_subjects, not both")
        return
    valid: list[tuple[Path_, str]] = []
    for path, subject in _filters(config):
        problem = subject_problem(subject)
        if problem:
            report(path, problem)
        else:
            valid.append((path, subject))
    for path, subject, earlier in _overlapping_earlier(valid):
        report(path, f"filter {subject!r} overlaps filter {earlier!r}")


def consumer_backoff(config: Config, stream: Config | None, report: Report) -> None:
    backoff = config.get("backoff") or []
    if not backoff:
        return
    max_deliver = config.get("max_deliver", -1)
    if max_deliver not in (-1, 0) and len(backoff) > max_deliver:
        report(("backoff",), f"backoff has {len(backoff)} delays but max_deliver {max_deliver} allows only "
                             f"{max_deliver} deliveries: use at most {max_deliver} delays or raise max_deliver")
    if "ack_wait" in config and config["ack_wait"] != backoff[0]:
        report(("ack_wait",), "with backoff the server uses backoff[0] as ack_wait: drop ack_wait or make it equal")


_PULL_ONLY = {"max_waiting": "max_waiting", "max_batch": "max_batch", "max_expires": "max_expires",
              "max_bytes": "max_bytes", "priority_policy": "priority groups", "priority_groups": "priority groups",
              "priority_timeout": "priority groups"}  # field -> what it is, reported once per push consumer
_PUSH_ONLY = {"idle_heartbeat": "idle_heartbeat", "flow_control": "flow_control", "rate_limit_bps": "rate_limit_bps",
              "deliver_group": "deliver_group"}


def consumer_push_or_pull(config: Config, stream: Config | None, report: Report) -> None:
    if _is_push(config):
        reported = set()
        for field, what in _PULL_ONLY.items():
            if config.get(field) and config.get(field) != "none" and what not in reported:
                reported.add(what)
                report((field,), f"{what} is for pull consumers: this one is push (deliver_subject is set)")
        _check_characters(config.get("deliver_group", ""), ("deliver_group",), report)  # a queue group name
        subject = config["deliver_subject"]
        problem = subject_problem(subject)
        if problem or has_wildcard(subject):  # one its stream captures: _check_consumer_subjects
            report(("deliver_subject",), problem or f"deliver_subject {subject!r} cannot contain wildcards")
        if config.get("ack_policy", "none") == "none":
            _push_without_acks(config, stream, report)
        if 0 < config.get("idle_heartbeat", 0) < 100 * MS:
            report(("idle_heartbeat",), "idle_heartbeat must be at least 100ms")
    else:
        for field, what in _PUSH_ONLY.items():
            if config.get(field):
                report((field,), f"{what} is for push consumers: set deliver_subject, or remove {field}")
        if 0 < config.get("max_expires", 0) < MS:
            report(("max_expires",), "max_expires must be 0 or at least 1ms")
    if config.get("flow_control") and not config.get("idle_heartbeat"):
        report(("flow_control",), "flow_control needs idle_heartbeat")


def _push_without_acks(config: Config, stream: Config | None, report: Report) -> None:
    """The server refuses a push consumer without acks that has a max_ack_pending, also one it
    would take from the stream's consumer_limits."""
    if config.get("max_ack_pending", 0) > 0:
        report(("max_ack_pending",), "max_ack_pending needs an ack_policy other than none")
    elif inherited := inherited_limits(config, stream).get("max_ack_pending"):
        name = (stream or {}).get("name")
        report(("ack_policy",), f"stream {name!r} gives its consumers max_ack_pending {inherited} (consumer_limits), "
                                "which a push consumer with ack_policy none cannot have: set an ack_policy, "
                                "or max_ack_pending: -1")


def consumer_ack_flow_control(config: Config, stream: Config | None, report: Report) -> None:
    if config.get("ack_policy") != "flow_control":
        return
    if not _is_push(config):
        report(("ack_policy",), "ack_policy flow_control needs a push consumer (deliver_subject)")
    if not config.get("flow_control"):
        report(("ack_policy",), "ack_policy flow_control needs flow_control: true")
    if config.get("idle_heartbeat", SECOND) != SECOND:
        report(("idle_heartbeat",), "ack_policy flow_control needs idle_heartbeat: 1s")
    if config.get("max_ack_pending", 0) < 0:  # 0 or left out: the stream's consumer_limits or 1000 (2.14+)
        report(("max_ack_pending",), "ack_policy flow_control needs a max_ack_pending: leave it out (the server "
                                     "uses the stream's consumer_limits.max_ack_pending, else 1000) or give one > 0")
    for field in ("ack_wait", "backoff"):
        if config.get(field):
            report((field,), f"ack_policy flow_control cannot set {field}")
    if config.get("max_deliver", -1) > 0:
        report(("max_deliver",), "ack_policy flow_control cannot limit max_deliver")


def consumer_priority(config: Config, stream: Config | None, report: Report) -> None:
    policy = config.get("priority_policy", "none")
    groups = config.get("priority_groups") or []
    if policy == "none":
        if groups:
            report(("priority_groups",), "priority_groups need a priority_policy other than none")
        if config.get("priority_timeout"):
            report(("priority_timeout",), "priority_timeout needs priority_policy: pinned_client")
        return
    if not groups:
        report(("priority_policy",), f"priority_policy {policy} needs priority_groups")
    for index, group in enumerate(groups):
        if not _PRIORITY_GROUP.match(group):
            report(("priority_groups", index), f"invalid priority group {group!r}: 1-16 of A-Z a-z 0-9 / _ = -")


# Set on the consumers the server makes for itself (a mirror's or a source's, direct gets): never declared.
SERVER_OWN_CONSUMER_FIELDS = ("direct", "sourcing")


def consumer_limits(config: Config, stream: Config | None, report: Report) -> None:
    text_rules(config, report)
    for field in SERVER_OWN_CONSUMER_FIELDS:
        if config.get(field):
            report((field,), f"{field} consumers are the server's own; they cannot be declared")
    if stream is None:
        return
    replicas, stream_replicas = config.get("num_replicas", 0), stream.get("num_replicas", 1) or 1
    if replicas > stream_replicas:
        report(("num_replicas",), f"num_replicas {replicas} is more than the stream's {stream_replicas}")
    elif replicas and replicas != stream_replicas and stream.get("retention", "limits") != "limits":
        report(("num_replicas",), f"consumers of a stream with retention {stream['retention']} must have the "
                                  f"stream's num_replicas ({stream_replicas})")
    limits = stream.get("consumer_limits") or {}
    for field in ("max_ack_pending", "inactive_threshold"):
        if limits.get(field, 0) > 0 and config.get(field, 0) > limits[field]:
            report((field,), f"{field} is above the stream's consumer_limits.{field} ({_yaml(limits[field])})")


def consumer_workqueue(config: Config, stream: Config | None, report: Report) -> None:
    if stream is None or stream.get("retention") != "workqueue":
        return
    if config.get("ack_policy", "none") != "explicit":
        report(("ack_policy",), "consumers of a workqueue stream need ack_policy: explicit")
    if config.get("deliver_policy", "all") != "all":
        report(("deliver_policy",), "consumers of a workqueue stream need deliver_policy: all")


CONSUMER_RULES: list[ConsumerRule] = [
    consumer_names, consumer_start, consumer_filters, consumer_backoff, consumer_push_or_pull,
    consumer_ack_flow_control, consumer_priority, consumer_limits, consumer_workqueue,
]


# ---------------------------------------------------------------- rules across resources


def _check_stream_subject_overlaps(streams: list[Item], problems: list[Problem]) -> None:
    """No two streams may capture the same subject (the server refuses the second one)."""
    index: SubjectIndex[Item] = SubjectIndex()
    for item in streams:
        subjects = _indexed_subjects(item)
        for position, subject in subjects:
            clash = index.first_overlap(subject)
            if clash:
                other_subject, other = clash
                field = ("subjects", position) if position is not None else ("name",)
                problems.append(item.problem(field, f"subject {subject!r} overlaps {other_subject!r} of stream "
                                                    f"{other.name!r} ({other.origin})"))
        for _, subject in subjects:
            index.add(subject, item)


def _indexed_subjects(item: Item) -> list[tuple[int | None, str]]:
    written = item.config.get("subjects") or []
    if written:
        return [(index, subject) for index, subject in enumerate(written) if not subject_problem(subject)]
    return [(None, subject) for subject in stream_subjects(item.config) if subject]


def _check_mirror_direct(streams: dict[str, Item], problems: list[Problem]) -> None:
    """Creating a mirror, every server version sets its mirror_direct to its origin's allow_direct when
    the origin is a stream of the account (measured 2.10-2.15): mirror_direct: true on a mirror of a
    declared origin without allow_direct would be stored false. (The reverse is modelled: a mirror of an
    origin with allow_direct gets mirror_direct, jetstream/defaults.py.)"""
    for item in streams.values():
        mirror = item.config.get("mirror") if item.checked else None
        if not mirror or not item.config.get("mirror_direct") or mirror.get("external"):
            continue
        origin = streams.get(mirror.get("name"))
        if origin is not None and origin.checked and not origin.config.get("allow_direct"):
            problems.append(item.problem(("mirror_direct",), f"mirror_direct: true needs allow_direct: true on the "
                                                             f"origin stream {origin.name!r} ({origin.origin}): the "
                                                             "server takes a mirror's mirror_direct from it; set "
                                                             "that, or drop mirror_direct"))


def _check_consumer_subjects(streams: dict[str, Item], consumers: dict[Any, Item], problems: list[Problem]) -> None:
    """Each filter must match a subject of its stream (when the stream's subjects are known: no mirror,
    sources or transform), and a deliver subject must match none (a cycle). Each stream's subjects are
    prepared once for all its consumers (:func:`_overlap_test`)."""
    tests: dict[str, Callable[[str], bool]] = {}
    for (stream_name, _), item in consumers.items():
        stream = streams.get(stream_name)
        if not (item.checked and stream and stream.checked):
            continue
        config = stream.config
        captures = tests.get(stream_name)
        if captures is None:
            captures = tests[stream_name] = _overlap_test(stream_subjects(config))
        if not (config.get("mirror") or config.get("sources") or config.get("subject_transform")):
            for path, subject in _valid_filters(item.config):
                if not captures(subject):
                    problems.append(item.problem(path, f"filter {subject!r} matches no subject of stream "
                                                       f"{stream_name!r} ({_some(stream_subjects(config))})"))
        deliver = item.config.get("deliver_subject")
        if deliver and not subject_problem(deliver) and not has_wildcard(deliver) and captures(deliver):
            problems.append(item.problem(("deliver_subject",), f"deliver_subject {deliver!r} is captured by the "
                                                               "stream itself (a cycle)"))


_COMPARED = 8  # up to this many subjects, comparing with each is cheaper than building an index


def _overlap_test(subjects: list[str]) -> Callable[[str], bool]:
    """subject -> whether it overlaps one of ``subjects`` (the valid ones): compared one by one when they
    are few (most streams), looked up in a SubjectIndex when many, so that with 32,000 subjects a lookup
    costs what it costs with 10."""
    valid = [subject for subject in subjects if not subject_problem(subject)]
    if len(valid) <= _COMPARED:
        return lambda subject: any(overlaps(subject, held) for held in valid)
    index: SubjectIndex[None] = SubjectIndex()
    for subject in valid:
        index.add(subject, None)
    return lambda subject: index.first_overlap(subject) is not None


_LISTED = 5  # subjects named in a message; a stream may have 10,000s


def _some(subjects: list[str]) -> str:
    more = f", and {len(subjects) - _LISTED} more" if len(subjects) > _LISTED else ""
    return ", ".join(subjects[:_LISTED]) + more


def _check_workqueue_consumers(streams: dict[str, Item], consumers: dict[Any, Item],
                               problems: list[Problem]) -> None:
    """On a workqueue stream every message goes to one consumer: filters must not overlap."""
    by_stream: dict[str, list[Item]] = defaultdict(list)
    for (stream_name, _), item in consumers.items():
        stream = streams.get(stream_name)
        if stream and stream.checked and item.checked and stream.config.get("retention") == "workqueue":
            by_stream[stream_name].append(item)
    for stream_name, items in by_stream.items():
        if len(items) < 2:
            continue
        index: SubjectIndex[Item] = SubjectIndex()
        for item in items:
            written = _filters(item.config)
            if not written:
                problems.append(item.problem(("stream",), f"workqueue stream {stream_name!r} has several consumers: "
                                                          "each needs a filter_subject"))
                continue
            filters = [(path, subject) for path, subject in written if not subject_problem(subject)]
            for path, subject in filters:
                clash = index.first_overlap(subject)
                if clash:
                    other = clash[1]
                    problems.append(item.problem(path, f"filter {subject!r} overlaps consumer {other.name!r} "
                                                       f"({other.origin}) on workqueue stream {stream_name!r}"))
            for _, subject in filters:
                index.add(subject, item)


def _yaml(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
