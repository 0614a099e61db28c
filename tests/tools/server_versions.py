"""Measure what each nats-server version does with stream and consumer configs; write it as data.

    .venv/bin/python tests/tools/server_versions.py [VERSION...]   # default: the whole matrix
    .venv/bin/python tests/tools/server_versions.py --table          # markdown summary of the data

For each version it starts a server (binary from tests/servers_matrix.py) and records, in
``tests/data/server_versions/<version>.json``:
- ``api``: the ``api`` object of ``$JS.API.INFO`` without its counters (``level`` is absent on 2.10);
- ``stream_defaults`` / ``consumer_defaults``: the config the server stores for minimal creates;
- ``stream_fields`` / ``consumer_fields``: for each field of the official JSON Schemas
  (shared/reference/jetstream-api-schemas), what a create with a plausible value does:
  ``accepted`` (stored as sent), ``changed`` (stored differently: ``stored``), ``dropped`` (silently
  absent from the stored config: the server does not know it), ``rejected`` (``error``);
  ``unknown_field`` is the same for a field no server knows;
- ``stream_updates`` / ``consumer_updates``: for each change jsctl may plan, whether the server
  applies it in place (``applied``), answers OK but keeps the old value (``ignored``) or refuses
  (``rejected`` with the error).
The probes are plain data below; tests/matrix/test_server_versions.py checks the committed files still
describe the servers. docs/server-versions.md explains how to read them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

from servers_matrix import matrix_versions, server_binary  # noqa: E402
from support import REFERENCE_SCHEMAS  # noqa: E402

from reconciler.dev.servers import NatsServer  # noqa: E402
from reconciler.jetstream.client import ApiError, JetStreamApi  # noqa: E402
from reconciler.jetstream.connect import connect_nats  # noqa: E402
from reconciler.jetstream.settings import NatsSettings  # noqa: E402

DATA_DIR = TESTS / "data" / "server_versions"
S = 1_000_000_000  # one second in nanoseconds
FUTURE = "2100-01-01T00:00:00Z"
DELETE = object()  # an override that removes a key from the base config

# Streams the probes mirror or source from; created once per server (mirror_direct needs allow_direct).
ORIGINS = [{"name": "ORIGIN", "subjects": ["origin.>"], "allow_direct": True},
           {"name": "ORIGIN2", "subjects": ["origin2.>"], "allow_direct": True}]

# field -> (value, other overrides the value needs to be valid). "{S}" is the probe stream's name.
STREAM_FIELD_PROBES: dict[str, tuple[Any, dict[str, Any]]] = {
    "name": ("{S}", {}),
    "description": ("probe", {}),
    "subjects": (["{S}.a", "{S}.b"], {}),
    "subject_transform": ({"src": "{S}.in.>", "dest": "{S}.out.>"}, {}),
    "retention": ("workqueue", {}),
    "max_consumers": (10, {}),
    "max_msgs": (1000, {}),
    "max_msgs_per_subject": (10, {}),
    "max_bytes": (1 << 20, {}),
    "max_age": (3600 * S, {}),
    "max_msg_size": (1024, {}),
    "storage": ("memory", {}),
    "compression": ("s2", {}),
    "first_seq": (100, {}),
    "num_replicas": (1, {}),
    "no_ack": (True, {}),
    "discard": ("new", {}),
    "duplicate_window": (60 * S, {}),
    "placement": ({"tags": ["probe"]}, {}),
    "mirror": ({"name": "ORIGIN"}, {"subjects": DELETE}),
    "sources": ([{"name": "ORIGIN"}], {}),
    "sealed": (True, {}),
    "deny_delete": (True, {}),
    "deny_purge": (True, {}),
    "allow_rollup_hdrs": (True, {}),
    "allow_direct": (True, {}),
    "allow_atomic": (True, {}),
    "allow_msg_counter": (True, {}),
    "allow_msg_schedules": (True, {"allow_rollup_hdrs": True}),
    "mirror_direct": (True, {"mirror": {"name": "ORIGIN"}, "subjects": DELETE}),
    "republish": ({"src": "{S}.>", "dest": "republished.{S}.>"}, {}),
    "discard_new_per_subject": (True, {"discard": "new", "max_msgs_per_subject": 10}),
    "metadata": ({"owner": "probe"}, {}),
    "consumer_limits": ({"inactive_threshold": 60 * S, "max_ack_pending": 100}, {}),
    "allow_msg_ttl": (True, {}),
    "subject_delete_marker_ttl": (60 * S, {"allow_msg_ttl": True, "allow_rollup_hdrs": True}),
    "persist_mode": ("async", {}),
    "allow_batched": (True, {}),
}

PUSH = {"deliver_subject": "deliver.{C}"}
PULL = {"ack_policy": "explicit"}
CONSUMER_FIELD_PROBES: dict[str, tuple[Any, dict[str, Any]]] = {
    "durable_name": ("{C}", {}),
    "name": ("{C}", {"durable_name": DELETE, "inactive_threshold": 3600 * S}),
    "description": ("probe", {}),
    "deliver_policy": ("last", {}),
    "deliver_subject": ("deliver.{C}", {}),
    "deliver_group": ("group", PUSH),
    "ack_policy": ("all", {}),
    "ack_wait": (10 * S, {}),
    "max_deliver": (5, {}),
    "filter_subject": ("{S}.a", {}),
    "filter_subjects": (["{S}.a", "{S}.b"], {}),
    "replay_policy": ("original", {}),
    "sample_freq": ("50%", {}),
    "rate_limit_bps": (1_000_000, PUSH),
    "max_ack_pending": (100, {}),
    "idle_heartbeat": (5 * S, PUSH),
    "flow_control": (True, {**PUSH, "idle_heartbeat": 5 * S}),
    "max_waiting": (100, {}),
    "direct": (True, {}),
    "sourcing": (True, {}),
    "headers_only": (True, {}),
    "max_batch": (10, {}),
    "max_expires": (30 * S, {}),
    "max_bytes": (1024, {}),
    "inactive_threshold": (60 * S, {}),
    "backoff": ([1 * S, 2 * S], {"max_deliver": 3}),
    "num_replicas": (1, {}),
    "mem_storage": (True, {}),
    "metadata": ({"owner": "probe"}, {}),
    "pause_until": (FUTURE, {}),
    "priority_groups": (["jobs"], {"priority_policy": "overflow"}),
    "priority_policy": ("pinned_client", {"priority_groups": ["jobs"]}),
    "priority_timeout": (60 * S, {"priority_groups": ["jobs"], "priority_policy": "pinned_client"}),
    "opt_start_seq": (1, {"deliver_policy": "by_start_sequence"}),
    "opt_start_time": ("2020-01-01T00:00:00Z", {"deliver_policy": "by_start_time"}),
}
UNKNOWN_FIELD = ("no_such_field", True)
API_COUNTERS = {"total", "errors", "inflight"}  # usage counters in $JS.API.INFO, not knowledge
SET_BY_UPDATE = {"sealed"}  # servers refuse a stream created sealed

# Defaults that depend on other fields: case -> (stream overrides, consumer config or None).
# The stored stream config is recorded when the consumer is None, else the stored consumer config.
DERIVED_DEFAULT_PROBES: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "stream_short_max_age": ({"max_age": 60 * S}, None),
    "stream_memory": ({"storage": "memory"}, None),
    "stream_replicas_0": ({"num_replicas": 0}, None),
    "stream_workqueue": ({"retention": "workqueue"}, None),
    "stream_mirror": ({"mirror": {"name": "ORIGIN"}, "subjects": DELETE}, None),
    "consumer_backoff_without_ack_wait": ({}, {"durable_name": "{C}", **PULL, "backoff": [2 * S, 4 * S],
                                               "max_deliver": 3}),
    "consumer_under_stream_consumer_limits": ({"consumer_limits": {"max_ack_pending": 100,
                                                                   "inactive_threshold": 60 * S}},
                                              {"durable_name": "{C}", **PULL}),
    "consumer_ephemeral_named": ({}, {"name": "{C}", **PULL}),
    "consumer_push_ack_explicit": ({}, {"durable_name": "{C}", "deliver_subject": "deliver.{C}", **PULL}),
    "consumer_on_workqueue": ({"retention": "workqueue"}, {"durable_name": "{C}", **PULL}),
    "consumer_on_memory_stream": ({"storage": "memory"}, {"durable_name": "{C}", **PULL}),
}

def _toggles(*fields: str) -> dict[str, tuple]:
    """Update cases turning each boolean field on, and off again."""
    cases: dict[str, tuple] = {}
    for name in fields:
        cases[f"{name}_on"] = (name, {}, True)
        cases[f"{name}_off"] = (name, {name: True}, False)
    return cases


# case -> (field, overrides at create, value the update sets[, other overrides the update needs]).
# Overrides may use DELETE. A create override the server refuses at create (sealed) is set by an update.
STREAM_UPDATE_PROBES: dict[str, tuple] = {
    "description": ("description", {}, "changed"),
    "subjects": ("subjects", {}, ["{S}.>", "{S}2.>"]),
    "max_msgs": ("max_msgs", {}, 500),
    "max_bytes": ("max_bytes", {}, 1 << 20),
    "max_age": ("max_age", {}, 3600 * S),
    "max_msg_size": ("max_msg_size", {}, 2048),
    "max_msgs_per_subject": ("max_msgs_per_subject", {}, 5),
    "max_consumers": ("max_consumers", {"max_consumers": 10}, 20),
    "max_consumers_from_unlimited": ("max_consumers", {}, 10),
    "max_consumers_to_unlimited": ("max_consumers", {"max_consumers": 10}, -1),
    "storage_file_to_memory": ("storage", {}, "memory"),
    "storage_memory_to_file": ("storage", {"storage": "memory"}, "file"),
    "retention_limits_to_workqueue": ("retention", {}, "workqueue"),
    "retention_workqueue_to_limits": ("retention", {"retention": "workqueue"}, "limits"),
    "retention_limits_to_interest": ("retention", {}, "interest"),
    "retention_interest_to_limits": ("retention", {"retention": "interest"}, "limits"),
    "retention_interest_to_workqueue": ("retention", {"retention": "interest"}, "workqueue"),
    "discard_old_to_new": ("discard", {}, "new"),
    "discard_new_to_old": ("discard", {"discard": "new"}, "old"),
    "discard_new_per_subject_on": ("discard_new_per_subject", {"discard": "new", "max_msgs_per_subject": 10}, True),
    "duplicate_window": ("duplicate_window", {}, 60 * S),
    "compression_none_to_s2": ("compression", {}, "s2"),
    "compression_s2_to_none": ("compression", {"compression": "s2"}, "none"),
    "first_seq": ("first_seq", {}, 100),
    "placement_tags": ("placement", {}, {"tags": ["probe"]}),
    **_toggles("no_ack", "sealed", "deny_delete", "deny_purge", "allow_rollup_hdrs", "allow_direct", "allow_msg_ttl",
               "allow_msg_schedules", "allow_msg_counter", "allow_atomic", "allow_batched"),
    "subject_delete_marker_ttl_set": ("subject_delete_marker_ttl", {"allow_msg_ttl": True,
                                                                    "allow_rollup_hdrs": True}, 60 * S),
    "persist_mode_default_to_async": ("persist_mode", {}, "async"),
    "persist_mode_async_to_default": ("persist_mode", {"persist_mode": "async"}, "default"),
    "metadata": ("metadata", {}, {"owner": "changed"}),
    "consumer_limits": ("consumer_limits", {}, {"max_ack_pending": 50}),
    "subject_transform_set": ("subject_transform", {}, {"src": "{S}.in.>", "dest": "{S}.out.>"}),
    "republish_set": ("republish", {}, {"src": "{S}.>", "dest": "republished.{S}.>"}),
    "republish_remove": ("republish", {"republish": {"src": "{S}.>", "dest": "republished.{S}.>"}}, DELETE),
    "sources_add": ("sources", {}, [{"name": "ORIGIN"}]),
    "sources_change": ("sources", {"sources": [{"name": "ORIGIN"}]}, [{"name": "ORIGIN2"}]),
    "sources_remove": ("sources", {"sources": [{"name": "ORIGIN"}]}, DELETE),
    "mirror_change": ("mirror", {"mirror": {"name": "ORIGIN"}, "subjects": DELETE}, {"name": "ORIGIN2"}),
    "mirror_remove": ("mirror", {"mirror": {"name": "ORIGIN"}, "subjects": DELETE}, DELETE),
    "mirror_add": ("mirror", {"subjects": DELETE, "sources": [{"name": "ORIGIN"}]}, {"name": "ORIGIN2"},
                   {"sources": DELETE}),
    "mirror_direct_on": ("mirror_direct", {"mirror": {"name": "ORIGIN"}, "subjects": DELETE}, True),
}

CONSUMER_UPDATE_PROBES: dict[str, tuple] = {
    "description": ("description", {}, "changed"),
    "ack_wait": ("ack_wait", {}, 10 * S),
    "max_deliver": ("max_deliver", {}, 5),
    "max_ack_pending": ("max_ack_pending", {}, 100),
    "backoff": ("backoff", {"max_deliver": 3}, [1 * S, 2 * S]),
    "filter_subject": ("filter_subject", {}, "{S}.b"),
    "filter_subjects": ("filter_subjects", {}, ["{S}.a", "{S}.b"]),
    "sample_freq": ("sample_freq", {}, "50%"),
    "headers_only": ("headers_only", {}, True),
    "metadata": ("metadata", {}, {"owner": "changed"}),
    "max_batch": ("max_batch", {}, 10),
    "max_expires": ("max_expires", {}, 30 * S),
    "max_bytes": ("max_bytes", {}, 1024),
    "inactive_threshold": ("inactive_threshold", {}, 60 * S),
    "num_replicas": ("num_replicas", {}, 1),
    "mem_storage_on": ("mem_storage", {}, True),
    "pause_until": ("pause_until", {}, FUTURE),
    "priority_groups_add": ("priority_groups", {}, ["jobs"], {"priority_policy": "overflow"}),
    "priority_policy_change": ("priority_policy", {"priority_groups": ["jobs"], "priority_policy": "overflow"},
                               "pinned_client"),
    "deliver_policy": ("deliver_policy", {}, "last"),
    "opt_start_seq": ("opt_start_seq", {"deliver_policy": "by_start_sequence", "opt_start_seq": 1}, 2),
    "ack_policy_explicit_to_none": ("ack_policy", {}, "none"),
    "ack_policy_explicit_to_all": ("ack_policy", {}, "all"),
    "replay_policy": ("replay_policy", {}, "original"),
    "max_waiting": ("max_waiting", {}, 100),
    "pull_to_push": ("deliver_subject", {}, "deliver.{C}", {"max_waiting": DELETE}),
    "push_to_pull": ("deliver_subject", PUSH, DELETE),
    "deliver_subject_change": ("deliver_subject", PUSH, "deliver2.{C}"),
    "deliver_group_change": ("deliver_group", {**PUSH, "deliver_group": "group"}, "group2"),
    "idle_heartbeat_change": ("idle_heartbeat", {**PUSH, "idle_heartbeat": 5 * S}, 10 * S),
    "flow_control_on": ("flow_control", {**PUSH, "idle_heartbeat": 5 * S}, True),
    "flow_control_off": ("flow_control", {**PUSH, "idle_heartbeat": 5 * S, "flow_control": True}, False),
    "rate_limit_bps": ("rate_limit_bps", PUSH, 1_000_000),
}


def _fill(value: Any, names: dict[str, str]) -> Any:
    """``value`` with "{S}"/"{C}" replaced by the probe's stream/consumer names, at any depth."""
    if isinstance(value, str):
        for key, name in names.items():
            value = value.replace("{" + key + "}", name)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _apply(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(config)
    for key, value in overrides.items():
        if value is DELETE:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _matches(sent: Any, stored: Any) -> bool:
    """The stored value says what was sent (the server may add keys to objects, e.g. defaults)."""
    if isinstance(sent, dict) and isinstance(stored, dict):
        return all(k in stored and _matches(v, stored[k]) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(stored, list):
        return len(sent) == len(stored) and all(_matches(a, b) for a, b in zip(sent, stored, strict=True))
    return sent == stored


def _error(exc: ApiError) -> dict[str, Any]:
    return {"code": exc.code, "err_code": exc.err_code, "description": exc.description}


def _field_outcome(field: str, sent: Any, stored_config: dict[str, Any]) -> dict[str, Any]:
    if field not in stored_config:
        return {"outcome": "dropped"}
    if _matches(sent, stored_config[field]):
        return {"outcome": "accepted"}
    return {"outcome": "changed", "stored": stored_config[field]}


class Prober:
    def __init__(self, api: JetStreamApi):
        self.api = api
        self.counter = 0

    def names(self) -> dict[str, str]:
        self.counter += 1
        return {"S": f"P{self.counter}", "C": f"C{self.counter}"}

    def base_stream(self, names: dict[str, str]) -> dict[str, Any]:
        return {"name": names["S"], "subjects": [f"{names['S']}.>"]}

    def base_consumer(self, names: dict[str, str]) -> dict[str, Any]:
        return {"durable_name": names["C"], **PULL}

    async def create_stream(self, config: dict[str, Any]) -> dict[str, Any]:
        return (await self.api.request(f"STREAM.CREATE.{config['name']}", config))["config"]

    async def delete_stream(self, name: str) -> None:
        with contextlib.suppress(ApiError):  # the create failed: nothing to delete
            await self.api.request(f"STREAM.DELETE.{name}")

    async def create_consumer(self, stream: str, config: dict[str, Any], action: str = "") -> dict[str, Any]:
        name = config.get("durable_name") or config["name"]
        request = {"stream_name": stream, "config": config, **({"action": action} if action else {})}
        return (await self.api.request(f"CONSUMER.CREATE.{stream}.{name}", request))["config"]

    async def derived_default(self, overrides: dict[str, Any], consumer: dict[str, Any] | None) -> dict[str, Any]:
        names = self.names()
        try:
            stored = await self.create_stream(_apply(self.base_stream(names), _fill(overrides, names)))
            if consumer is not None:
                stored = await self.create_consumer(names["S"], _fill(consumer, names))
            return stored
        finally:
            await self.delete_stream(names["S"])

    async def stream_field(self, field: str, value: Any, overrides: dict[str, Any]) -> dict[str, Any]:
        names = self.names()
        sent = _fill(value, names)
        config = _apply(self.base_stream(names), {**_fill(overrides, names), field: sent})
        try:
            stored = await self.create_stream(config)
        except ApiError as exc:
            return {"outcome": "rejected", "error": _error(exc)}
        finally:
            await self.delete_stream(names["S"])
        return _field_outcome(field, sent, stored)

    async def consumer_field(self, field: str, value: Any, overrides: dict[str, Any]) -> dict[str, Any]:
        names = self.names()
        stream = self.base_stream(names)
        await self.create_stream(stream)
        try:
            sent = _fill(value, names)
            config = _apply(self.base_consumer(names), {**_fill(overrides, names), field: sent})
            try:
                stored = await self.create_consumer(names["S"], config)
            except ApiError as exc:
                return {"outcome": "rejected", "error": _error(exc)}
            return _field_outcome(field, sent, stored)
        finally:
            await self.delete_stream(names["S"])

    async def stream_update(self, field: str, overrides: dict[str, Any], value: Any,
                            with_update: dict[str, Any] | None = None) -> dict[str, Any]:
        names = self.names()
        overrides = _fill(overrides, names)
        later = {k: overrides.pop(k) for k in SET_BY_UPDATE & overrides.keys()}
        try:
            before = await self.create_stream(_apply(self.base_stream(names), overrides))
            if later:
                before = await self.update_stream(_apply(before, later))
        except ApiError as exc:
            await self.delete_stream(names["S"])
            return {"outcome": "setup_rejected", "error": _error(exc)}
        try:
            wanted = _fill(value, names)
            try:
                after = await self.update_stream(_apply(before, {**_fill(with_update or {}, names), field: wanted}))
            except ApiError as exc:
                return {"outcome": "rejected", "error": _error(exc)}
            return _update_outcome(field, wanted, before, after)
        finally:
            await self.delete_stream(names["S"])

    async def update_stream(self, config: dict[str, Any]) -> dict[str, Any]:
        return (await self.api.request(f"STREAM.UPDATE.{config['name']}", config))["config"]

    async def consumer_update(self, field: str, overrides: dict[str, Any], value: Any,
                              with_update: dict[str, Any] | None = None) -> dict[str, Any]:
        names = self.names()
        await self.create_stream(self.base_stream(names))
        try:
            try:
                before = await self.create_consumer(
                    names["S"], _apply(self.base_consumer(names), _fill(overrides, names)))
            except ApiError as exc:
                return {"outcome": "setup_rejected", "error": _error(exc)}
            wanted = _fill(value, names)
            changed = _apply(before, {**_fill(with_update or {}, names), field: wanted})
            try:
                after = await self.create_consumer(names["S"], changed, action="update")
            except ApiError as exc:
                return {"outcome": "rejected", "error": _error(exc)}
            return _update_outcome(field, wanted, before, after)
        finally:
            await self.delete_stream(names["S"])


def _update_outcome(field: str, wanted: Any, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    if wanted is DELETE or not wanted:  # the server omits false, zero and empty values
        applied = not after.get(field)
    else:
        applied = field in after and _matches(wanted, after[field])
    if applied:
        return {"outcome": "applied"}
    if after.get(field) == before.get(field):
        return {"outcome": "ignored"}
    return {"outcome": "changed", "stored": after.get(field)}


def _schema_fields(name: str) -> list[str]:
    if REFERENCE_SCHEMAS is None:
        raise FileNotFoundError("../shared/reference/jetstream-api-schemas is not beside this checkout")
    return list(json.loads((REFERENCE_SCHEMAS / name).read_text())["properties"])


async def probe_server(url: str) -> dict[str, Any]:
    """Everything this module records, measured on the server at ``url`` (an empty account)."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        prober = Prober(api)
        info = await api.request("INFO")
        for origin in ORIGINS:
            await prober.create_stream(origin)

        names = prober.names()
        stream_defaults = await prober.create_stream(prober.base_stream(names))
        consumer_defaults = {
            "pull": await prober.create_consumer(names["S"], {"durable_name": "PULL", **PULL}),
            "push": await prober.create_consumer(names["S"], {"durable_name": "PUSH", "deliver_subject": "d.push"}),
        }
        try:
            consumer_defaults["pull_without_ack_policy"] = await prober.create_consumer(
                names["S"], {"durable_name": "BARE"})
        except ApiError as exc:
            consumer_defaults["pull_without_ack_policy"] = {"error": _error(exc)}
        await prober.delete_stream(names["S"])

        derived = {case: await prober.derived_default(*probe) for case, probe in DERIVED_DEFAULT_PROBES.items()}
        stream_fields = {f: await prober.stream_field(f, *STREAM_FIELD_PROBES[f])
                         for f in _schema_fields("stream_configuration.json")}
        consumer_fields = {f: await prober.consumer_field(f, *CONSUMER_FIELD_PROBES[f])
                           for f in _schema_fields("consumer_configuration.json")}
        unknown = {
            "stream": await prober.stream_field(*UNKNOWN_FIELD, {}),
            "consumer": await prober.consumer_field(*UNKNOWN_FIELD, {}),
        }
        stream_updates = {case: await prober.stream_update(*probe) for case, probe in STREAM_UPDATE_PROBES.items()}
        consumer_updates = {case: await prober.consumer_update(*probe)
                            for case, probe in CONSUMER_UPDATE_PROBES.items()}
        return {
            "version": nc._server_info.get("version"),
            "api": {k: v for k, v in (info.get("api") or {}).items() if k not in API_COUNTERS},
            "stream_defaults": stream_defaults,
            "consumer_defaults": consumer_defaults,
            "derived_defaults": derived,
            "unknown_field": unknown,
            "stream_fields": stream_fields,
            "consumer_fields": consumer_fields,
            "stream_updates": stream_updates,
            "consumer_updates": consumer_updates,
        }
    finally:
        await nc.close()


def measure(version: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"probe-{version}-") as workdir:
        server = NatsServer(Path(workdir), binary=str(server_binary(version)), server_name=f"probe-{version}")
        server.start()
        try:
            return asyncio.run(probe_server(server.url))
        finally:
            server.stop()


def data_file(version: str) -> Path:
    return DATA_DIR / f"{version}.json"


def load(version: str) -> dict[str, Any]:
    return json.loads(data_file(version).read_text())


def _cell(outcome: dict[str, Any]) -> str:
    if outcome["outcome"] in ("rejected", "setup_rejected"):
        return f"{outcome['outcome']} ({outcome['error']['err_code']})"
    return outcome["outcome"]


def differences_table(versions: list[str]) -> str:
    """Markdown: every probe whose outcome is not plain accepted/applied on some version."""
    datas = [load(v) for v in versions]
    lines = [f"| probe | {' | '.join(versions)} |", "|---" * (len(versions) + 1) + "|"]
    for section in ("stream_fields", "consumer_fields", "stream_updates", "consumer_updates"):
        for probe in datas[-1][section]:
            cells = [_cell(d[section][probe]) for d in datas]
            if any(c not in ("accepted", "applied") for c in cells):
                lines.append(f"| {section}.{probe} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        print(differences_table(argv[1:] or list(matrix_versions())))
        return 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for version in argv or matrix_versions():
        data = measure(version)
        data_file(version).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        print(f"{version}: wrote {data_file(version).relative_to(TESTS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
