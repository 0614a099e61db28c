"""The reconciler's per-version rules (reconciler/jetstream/capabilities.py, replace_rules.py) agree with what each real
server did in the committed measurements (tests/data/server_versions/, re-checked against the
servers by test_server_versions.py). Pure: no server is started here.

- a field the version drops or refuses as unknown is a plan error on that version, and a field it
  accepts is not;
- an update the version refuses needs a replace, and one it applies in place does not.
"""

from __future__ import annotations

import copy

import pytest
from servers_matrix import version_line
from tools.server_versions import (
    CONSUMER_FIELD_PROBES,
    CONSUMER_UPDATE_PROBES,
    DELETE,
    STREAM_FIELD_PROBES,
    STREAM_UPDATE_PROBES,
    _apply,
    _fill,
    load,
)

from reconciler.jetstream.capabilities import parse_version, unsupported
from reconciler.jetstream.normalize import normalize
from reconciler.jetstream.replace_rules import replace_reasons
from reconciler.manifest.model import CONSUMER, STREAM

NAMES = {"S": "P", "C": "C"}
STREAM_BASE = {"name": "P", "subjects": ["P.>"]}
CONSUMER_BASE = {"durable_name": "C", "ack_policy": "explicit"}
UNKNOWN = ("dropped", "unknown")  # 'unknown': rejected with err_code 10025

# Internal fields no manifest may set (the server uses them for sourcing/mirroring).
INTERNAL = {(CONSUMER, "direct"), (CONSUMER, "sourcing")}
# Where the rules and the servers disagree today, each measured: (section, case) -> (first, last
# server line affected, why). The test fails once a gap is closed, so that its entry goes too.
KNOWN_GAPS: dict[tuple[str, str], tuple[tuple[int, int], tuple[int, int], str]] = {}
# Changes no update can make, that apply makes with another request instead (and a test shows it).
OTHER_REQUEST = {
    ("consumer_updates", "pause_until"): "apply sends $JS.API.CONSUMER.PAUSE "
                                         "(tests/jetstream/test_js_apply_server.py::test_pause_until_*)",
}


def outcome_of(entry: dict) -> str:
    if entry["outcome"] in ("rejected", "setup_rejected") and entry["error"]["err_code"] == 10025:
        return "unknown"
    return entry["outcome"]


def field_cases():
    for section, kind, probes in (("stream_fields", STREAM, STREAM_FIELD_PROBES),
                                  ("consumer_fields", CONSUMER, CONSUMER_FIELD_PROBES)):
        for name in probes:
            if (kind, name) not in INTERNAL:
                yield pytest.param(section, kind, name, id=f"{section}.{name}")


def update_cases():
    for section, kind, probes in (("stream_updates", STREAM, STREAM_UPDATE_PROBES),
                                  ("consumer_updates", CONSUMER, CONSUMER_UPDATE_PROBES)):
        for case in probes:
            yield pytest.param(section, kind, case, id=f"{section}.{case}")


@pytest.mark.parametrize(("section", "kind", "field"), list(field_cases()))
def test_field_support_matches_the_server(nats_server_version, section, kind, field):
    outcome = outcome_of(load(nats_server_version)[section][field])
    if outcome == "rejected":
        pytest.skip("the value alone is invalid on every version (e.g. sealed at create)")
    value = _fill((STREAM_FIELD_PROBES if kind == STREAM else CONSUMER_FIELD_PROBES)[field][0], NAMES)
    problems = unsupported(kind, {field: value}, parse_version(nats_server_version))
    assert bool(problems) == (outcome in UNKNOWN), (outcome, problems)


@pytest.mark.parametrize(("section", "kind", "case"), list(update_cases()))
def test_replace_rules_match_the_server(nats_server_version, section, kind, case):
    entry = load(nats_server_version)[section][case]
    outcome = outcome_of(entry)
    field, overrides, value, *with_update = (STREAM_UPDATE_PROBES if kind == STREAM else CONSUMER_UPDATE_PROBES)[case]
    base = STREAM_BASE if kind == STREAM else CONSUMER_BASE
    before = _apply(base, _fill(overrides, NAMES))
    after = _apply(copy.deepcopy(before), {**_fill(with_update[0] if with_update else {}, NAMES),
                                           field: value if value is DELETE else _fill(value, NAMES)})
    version = parse_version(nats_server_version)
    if unsupported(kind, after, version) or unsupported(kind, before, version):
        assert outcome in ("unknown", "ignored", "applied", "setup_rejected"), outcome
        return  # a plan error on this version: never sent
    stream = STREAM_BASE if kind == CONSUMER else None
    reasons = replace_reasons(kind, normalize(kind, before, version, stream), normalize(kind, after, version, stream),
                              version)
    if (section, case) in OTHER_REQUEST:
        assert not reasons
        pytest.skip(OTHER_REQUEST[(section, case)])
    agree = outcome != "ignored" and bool(reasons) == (outcome == "rejected")  # ignored: no rule can help
    first, last, why = KNOWN_GAPS.get((section, case), (None, None, ""))
    if first and first <= version_line(nats_server_version) <= last:
        assert not agree, f"known gap closed, remove it from KNOWN_GAPS: {why}"
        pytest.xfail(why)
    assert agree, (entry, reasons)
