"""Every validation rule, one case each: the manifest, where the error points, what it says."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifest.load import format_path, parse_document
from reconciler.manifest.subjects import overlaps
from reconciler.manifest.validate import validate_documents

BASE_STREAM = {"name": "S", "subjects": ["s.*"]}


def check(streams=None, consumers=None, text: str | None = None) -> list[str]:
    """The problems of one manifest, as `field.path: message` (file and line checked elsewhere)."""
    if text is None:
        text = yaml.safe_dump({"streams": streams or [], "consumers": consumers or []}, sort_keys=False)
    problems = []
    validate_documents([parse_document(text, "m.yaml", problems)], problems)
    return [f"{format_path(p.path)}: {p.message}" for p in problems]


ACK_FLOW_CONTROL = {"ack_policy": "flow_control", "deliver_subject": "out", "flow_control": True,
                    "idle_heartbeat": "1s"}


def consumer(**fields):
    return {"stream": "S", "durable_name": "C", **fields}


def stream(**fields):
    return {**BASE_STREAM, **fields}


CASES = {
    # --- shape, types and names (JSON Schema)
    "unknown field, did you mean": (
        [stream(max_agee="1h")], [], "streams[0].max_agee: unknown field 'max_agee' (did you mean 'max_age'?)"),
    "unknown consumer field": (
        [stream()], [consumer(filter="s.a")], "consumers[0].filter: unknown field 'filter'"),
    "unknown top-level key": (None, None, "strems: unknown top-level key 'strems' (did you mean 'streams'?)"),
    "wrong type": ([stream(max_msgs="many")], [], "streams[0].max_msgs: expected an integer, got a string"),
    "wrong type for a duration": ([stream(max_age=True)], [], "streams[0].max_age: expected a duration"),
    "YAML reads it as a number": ([stream(name=2024)], [],
                                  "streams[0].name: expected a string, got an integer (quote it to make it text)"),
    "wrong type for a list": ([stream(subjects="s.*")], [], "streams[0].subjects: expected a list, got a string"),
    "bad enum": ([stream(retention="workqeue")], [],
                 "streams[0].retention: 'workqeue' is not one of 'limits', 'interest', 'workqueue' "
                 "(did you mean 'workqueue'?)"),
    "bad consumer enum": ([stream()], [consumer(ack_policy="explicitly")],
                          "consumers[0].ack_policy: 'explicitly' is not one of"),
    "bad duration": ([stream(max_age="1 year")], [], "streams[0].max_age: invalid duration '1 year'"),
    "bad size": ([stream(max_bytes="1PB")], [], "streams[0].max_bytes: invalid size '1PB'"),
    "negative duration": ([stream(max_age=-5)], [], "streams[0].max_age: -5 is less than the minimum 0"),
    "too many replicas": ([stream(num_replicas=7)], [], "streams[0].num_replicas: 7 is more than the maximum 5"),
    "missing stream name": ([{"subjects": ["x"]}], [], "streams[0]: missing required field 'name'"),
    "consumer without a name": ([stream()], [{"stream": "S"}],
                                "consumers[0]: missing required field 'durable_name' (or 'name')"),
    "consumer without stream": ([stream()], [{"durable_name": "C"}], "consumers[0]: missing required field 'stream'"),
    "bad timestamp": ([stream()], [consumer(deliver_policy="by_start_time", opt_start_time="yesterday")],
                      "consumers[0].opt_start_time: 'yesterday' is not an RFC 3339 time"),
    "empty name": ([stream(name="")], [], "streams[0].name: must not be empty"),
    **{f"name with {bad!r}": ([stream(name=f"A{bad}B")], [], f"streams[0].name: invalid name {'A' + bad + 'B'!r}")
       for bad in (".", "*", ">", " ", "\t", "/", "\\")},
    "consumer name with a dot": ([stream()], [consumer(durable_name="C.1")],
                                 "consumers[0].durable_name: invalid name 'C.1'"),
    "name with a NUL": ([stream(name="nul\0x")], [],
                        "streams[0].name: invalid name 'nul\\x00x': contains a control or invisible character "
                        "(U+0000)"),
    "consumer name with a control character": ([stream()], [consumer(durable_name="\x01")],
                                               "consumers[0].durable_name: invalid name '\\x01': contains a control"),
    "name with a no-break space": ([stream(name="A\u00a0B")], [], "contains whitespace (U+00A0)"),
    "name longer than 255 bytes": ([stream(name="é" * 128)], [],
                                   "streams[0].name: name is longer than the server's limit of 255 bytes (UTF-8)"),
    # --- integers: the range of the server's Go type, after unit conversion
    "integer beyond int64": ([stream(max_msgs=2**63)], [],
                             "streams[0].max_msgs: 9223372036854775808 is more than this field holds (a Go int64: "
                             "at most 9223372036854775807)"),
    "size beyond int64": ([stream(max_bytes=2**63)], [], "streams[0].max_bytes: 9223372036854775808 is more than"),
    "duration beyond int64": ([stream(max_age="300y")], [],
                              "streams[0].max_age: 9460800000000000000 is more than this field holds (a Go "
                              "time.Duration: at most 9223372036854775807 ns, about 292 years)"),
    "nanoseconds beyond int64": ([stream()], [consumer(ack_wait=99999999999999999999)],
                                 "consumers[0].ack_wait: 99999999999999999999 is more than this field holds"),
    "backoff item beyond int64": ([stream()], [consumer(backoff=[2**63], max_deliver=5)],
                                  "consumers[0].backoff[0]: 9223372036854775808 is more than"),
    "int beyond int64": ([stream()], [consumer(max_deliver=2**63)], "(a Go int: at most 9223372036854775807)"),
    "uint64 beyond its range": ([stream()], [consumer(deliver_policy="by_start_sequence", opt_start_seq=2**64)],
                                "consumers[0].opt_start_seq: 18446744073709551616 is more than this field holds (a "
                                "Go uint64: at most 18446744073709551615)"),
    "source start beyond uint64": ([stream(), {"name": "A", "sources": [{"name": "S", "opt_start_seq": 2**64}]}], [],
                                   "streams[1].sources[0].opt_start_seq: 18446744073709551616 is more than"),
    "a decimal number for an integer": ([stream(max_msgs=1.0)], [],
                                        "streams[0].max_msgs: expected an integer, got a decimal number"),
    "duration that would round to 0": ([stream(max_age="0.0000000001s")], [],
                                       "streams[0].max_age: duration '0.0000000001s' is less than 1ns"),
    "duration with fullwidth digits": ([stream(max_age="１h")], [], "streams[0].max_age: invalid duration '１h'"),
    "duration with Arabic-Indic digits": ([stream(max_age="٣h")], [], "streams[0].max_age: invalid duration '٣h'"),
    "description longer than 4KB in bytes": ([stream(description="é" * 2049)], [],
                                             "streams[0].description: description is longer than the server's "
                                             "limit of 4096 bytes"),
    "sample_freq with spaces": ([stream()], [consumer(sample_freq=" 50%")], "consumers[0].sample_freq: ' 50%'"),
    # --- resources
    "duplicate stream": ([stream(), {"name": "S", "subjects": ["t"]}], [],
                         "streams[1].name: duplicate stream 'S' (first declared at m.yaml:2:"),
    "duplicate consumer": ([stream()], [consumer(), consumer()],
                           "consumers[1].durable_name: duplicate consumer 'C' (first declared at m.yaml:"),
    "name and durable_name differ": ([stream()], [consumer(name="D")],
                                     "consumers[0].name: name 'D' differs from durable_name 'C'"),
    "undeclared stream": ([stream()], [consumer(stream="SS")],
                          "consumers[0].stream: consumer on undeclared stream 'SS' (did you mean 'S'?)"),
    # --- subjects
    "invalid subject token": ([stream(subjects=["a..b"])], [], "streams[0].subjects[0]: subject 'a..b' has an empty"),
    "wildcard inside a token": ([stream(subjects=["a.b*"])], [], "must be whole tokens"),
    "'>' not last": ([stream(subjects=["a.>.b"])], [], "streams[0].subjects[0]: subject 'a.>.b': '>' must be the last"),
    "whitespace in subject": ([stream(subjects=["a b"])], [], "subject 'a b' contains whitespace"),
    "control character in subject": ([stream(subjects=["a\x01.b"])], [],
                                     "streams[0].subjects[0]: subject 'a\\x01.b' contains a control or invisible "
                                     "character (U+0001)"),
    "control character in a transform's destination": (
        [stream(subject_transform={"src": "s.*", "dest": "t.{{ wildcard(1) }}\x07"})], [],
        "streams[0].subject_transform.dest: 't.{{ wildcard(1) }}\\x07' contains a control or invisible character"),
    "a source's external API prefix with a space": (
        [stream(), {"name": "A", "sources": [{"name": "S", "external": {"api": "$JS.x API"}}]}], [],
        "streams[1].sources[0].external.api: '$JS.x API' contains whitespace (U+0020)"),
    "an external API prefix with a wildcard": (
        [stream(), {"name": "A", "sources": [{"name": "S", "external": {"api": "$JS.*.API"}}]}], [],
        "streams[1].sources[0].external.api: '$JS.*.API' has a wildcard: the other domain's or account's API prefix"),
    "an external API prefix with an empty token": (
        [{"name": "A", "mirror": {"name": "S", "external": {"api": "$JS.leaf.API."}}}], [],
        "streams[0].mirror.external.api: subject '$JS.leaf.API.' has an empty token"),
    "an empty external API prefix": (
        [{"name": "A", "mirror": {"name": "S", "external": {"api": ""}}}], [],
        "streams[0].mirror.external.api: must not be empty: the other domain's or account's API prefix"),
    "the account's own API as an external prefix": (
        [{"name": "A", "mirror": {"name": "S", "external": {"api": "$JS.API"}}}], [],
        "streams[0].mirror.external.api: $JS.API is this account's own API"),
    "an external deliver prefix with a wildcard": (
        [{"name": "A", "mirror": {"name": "S", "external": {"api": "$JS.hub.API", "deliver": "dl.>"}}}], [],
        "streams[0].mirror.external.deliver: 'dl.>' has a wildcard"),
    "a source transform's destination with a line break": (
        [stream(), {"name": "A", "sources": [{"name": "S", "subject_transforms": [{"src": "s.*", "dest": "a\nb"}]}]}],
        [], "streams[1].sources[0].subject_transforms[0].dest: 'a\\nb' contains whitespace (U+000A)"),
    "metadata key with a control character": ([stream(metadata={"a\x1b[2J": "v", "a b": "spaces are fine"})], [],
                                              "streams[0].metadata.a\x1b[2J: 'a\\x1b[2J' contains a control"),
    "deliver_group with a control character": ([stream()], [consumer(deliver_subject="out", deliver_group="g\x00")],
                                               "consumers[0].deliver_group: 'g\\x00' contains a control"),
    "invisible character in filter": ([stream()], [consumer(filter_subject="s.\u200b")],
                                      "consumers[0].filter_subject: subject 's.\\u200b' contains a control"),
    "duplicate subject": ([stream(subjects=["a", "a"])], [], "streams[0].subjects[1]: duplicate subject 'a'"),
    "subjects overlap in one stream": ([stream(subjects=["a.*", "a.b"])], [],
                                      "streams[0].subjects[1]: subject 'a.b' overlaps with 'a.*' of the same stream"),
    "subjects overlap between streams": ([stream(), {"name": "T", "subjects": ["s.>"]}], [],
                                        "streams[1].subjects[0]: subject 's.>' overlaps 's.*' of stream 'S' (m.yaml:"),
    "a stream without subjects captures its name": ([{"name": "s"}, {"name": "T", "subjects": ["*"]}], [],
                                                   "streams[1].subjects[0]: subject '*' overlaps 's' of stream 's'"),
    "capture everything": ([stream(subjects=[">"])], [], "'>') needs no_ack: true"),
    "capture everything replicated": ([stream(subjects=[">"], no_ack=True, num_replicas=3)], [],
                                      "needs no_ack: true and num_replicas: 1"),
    "API subjects": ([stream(subjects=["$JS.API.>"])], [], "overlaps the JetStream/system API"),
    "filter matching no stream subject": ([stream()], [consumer(filter_subject="t.a")],
                                          "consumers[0].filter_subject: filter 't.a' matches no subject of stream 'S'"),
    "invalid filter subject": ([stream()], [consumer(filter_subjects=["s.a", "s..b"])],
                               "consumers[0].filter_subjects[1]: subject 's..b' has an empty token"),
    "filter_subject and filter_subjects": ([stream()], [consumer(filter_subject="s.a", filter_subjects=["s.b"])],
                                           "consumers[0].filter_subjects: use either filter_subject or"),
    "overlapping filters": ([stream()], [consumer(filter_subjects=["s.*", "s.a"])],
                            "consumers[0].filter_subjects[1]: filter 's.a' overlaps filter 's.*'"),
    # --- stream combinations
    "sealed with rollups": ([stream(sealed=True, allow_rollup_hdrs=True)], [],
                            "streams[0].allow_rollup_hdrs: a sealed stream has allow_rollup_hdrs: false"),
    "sealed with max_age": ([stream(sealed=True, max_age="1h")], [], "max_age: a sealed stream has max_age: 0"),
    "rollups without purge": ([stream(deny_purge=True, allow_rollup_hdrs=True)], [],
                              "streams[0].allow_rollup_hdrs: allow_rollup_hdrs needs purging"),
    "max_age under 100ms": ([stream(max_age="50ms")], [], "streams[0].max_age: max_age must be 0 (unlimited)"),
    "duplicate window longer than max_age": ([stream(max_age="1h", duplicate_window="2h")], [],
                                             "duplicate_window: duplicate_window cannot be longer than max_age"),
    "duplicate window under 100ms": ([stream(duplicate_window="10ms")], [], "duplicate_window must be at least 100ms"),
    "max_msg_size beyond int32": ([stream(max_msg_size="4GB")], [],
                                  "streams[0].max_msg_size: 4294967296 is more than this field holds (a Go int32: "
                                  "at most 2147483647)"),
    "metadata too large": ([stream(metadata={"k": "v" * 140_000})], [], "streams[0].metadata: metadata is larger"),
    "discard_new_per_subject without discard new": ([stream(discard_new_per_subject=True, max_msgs_per_subject=1)],
                                                    [], "discard_new_per_subject needs discard: new"),
    "discard_new_per_subject without per-subject limit": (
        [stream(discard_new_per_subject=True, discard="new")], [], "needs max_msgs_per_subject > 0"),
    "counter with discard new": ([stream(allow_msg_counter=True, discard="new")], [],
                                 "streams[0].allow_msg_counter: a counter stream cannot use discard: new"),
    "counter with TTLs": ([stream(allow_msg_counter=True, allow_msg_ttl=True)], [], "cannot use allow_msg_ttl"),
    "counter needs limits retention": ([stream(allow_msg_counter=True, retention="interest")], [],
                                       "a counter stream needs retention: limits"),
    "delete markers under 1s": ([stream(subject_delete_marker_ttl="500ms", allow_msg_ttl=True,
                                        allow_rollup_hdrs=True)], [], "subject_delete_marker_ttl must be at least 1s"),
    "delete markers without TTLs": ([stream(subject_delete_marker_ttl="5m", allow_rollup_hdrs=True)], [],
                                    "streams[0].subject_delete_marker_ttl: subject_delete_marker_ttl needs "
                                    "allow_msg_ttl: true"),
    "delete markers without rollups": ([stream(subject_delete_marker_ttl="5m", allow_msg_ttl=True)], [],
                                       "needs allow_rollup_hdrs: true"),
    "schedules with discard new": ([stream(allow_msg_schedules=True, allow_rollup_hdrs=True, discard="new")], [],
                                   "message schedules cannot use discard: new"),
    "schedules without rollups": ([stream(allow_msg_schedules=True)], [],
                                  "allow_msg_schedules needs allow_rollup_hdrs: true"),
    "async persist with memory": ([stream(persist_mode="async", storage="memory")], [],
                                  "streams[0].persist_mode: persist_mode: async needs storage: file"),
    "async persist replicated": ([stream(persist_mode="async", num_replicas=3)], [], "not supported on replicated"),
    "async persist with atomic": ([stream(persist_mode="async", allow_atomic=True)], [], "cannot go with allow_atomic"),
    "mirror with subjects": ([stream(), {"name": "M", "subjects": ["m"], "mirror": {"name": "S"}}], [],
                             "streams[1].subjects: a mirror cannot have subjects"),
    "mirror with sources": ([stream(), {"name": "M", "mirror": {"name": "S"}, "sources": [{"name": "S"}]}], [],
                            "streams[1].sources: a stream cannot be both a mirror and have sources"),
    "mirror with first_seq": ([stream(), {"name": "M", "mirror": {"name": "S"}, "first_seq": 5}], [],
                              "streams[1].first_seq: a mirror cannot set first_seq"),
    "mirror filter with transforms": (
        [stream(), {"name": "M", "mirror": {"name": "S", "filter_subject": "s.a",
                                             "subject_transforms": [{"src": "s.b", "dest": "x"}]}}], [],
        "streams[1].mirror.filter_subject: use either filter_subject or subject_transforms"),
    "duplicate source": ([stream(), {"name": "A", "sources": [{"name": "S"}, {"name": "S"}]}], [],
                         "streams[1].sources[1]: duplicate source 'S'"),
    "overlapping source transforms": (
        [stream(), {"name": "A", "sources": [{"name": "S", "subject_transforms": [
            {"src": "s.*", "dest": "a.{{wildcard(1)}}"}, {"src": "s.b", "dest": "b"}]}]}], [],
        "streams[1].sources[0].subject_transforms[1].src: 's.b' overlaps 's.*'"),
    "mirror_direct without a direct origin": (
        [stream(), {"name": "M", "mirror": {"name": "S"}, "mirror_direct": True}], [],
        "streams[1].mirror_direct: mirror_direct: true needs allow_direct: true on the origin stream 'S' (m.yaml:"),
    "republish cycle": ([stream(republish={"src": "s.*", "dest": "s.x"})], [],
                        "streams[0].republish.dest: republishing to 's.x' would feed the stream its own messages"),
    "placement preferred": ([stream(placement={"preferred": "n1"})], [], "does not accept a preferred server"),
    # --- consumer combinations
    "backoff longer than max_deliver allows": (
        [stream()], [consumer(backoff=["1s", "5s", "30s"], max_deliver=2)],
        "consumers[0].backoff: backoff has 3 delays but max_deliver 2 allows only 2 deliveries"),
    "ack_wait overridden by backoff": ([stream()], [consumer(backoff=["1s"], ack_wait="30s")],
                                       "consumers[0].ack_wait: with backoff the server uses backoff[0] as ack_wait"),
    "opt_start_seq without by_start_sequence": ([stream()], [consumer(opt_start_seq=5)],
                                                "consumers[0].opt_start_seq: opt_start_seq is only for deliver_policy: "
                                                "by_start_sequence (here: all)"),
    "by_start_sequence without opt_start_seq": ([stream()], [consumer(deliver_policy="by_start_sequence")],
                                                "consumers[0].deliver_policy: deliver_policy by_start_sequence needs "
                                                "opt_start_seq"),
    "opt_start_time without by_start_time": ([stream()], [consumer(opt_start_time="2025-01-01T00:00:00Z")],
                                             "opt_start_time is only for deliver_policy: by_start_time"),
    "last_per_subject without filter": ([stream()], [consumer(deliver_policy="last_per_subject")],
                                        "deliver_policy last_per_subject needs filter_subject"),
    "max_waiting on a push consumer": ([stream()], [consumer(deliver_subject="out", max_waiting=10)],
                                       "consumers[0].max_waiting: max_waiting is for pull consumers: this one is push"),
    "pull-only max_batch on push": ([stream()], [consumer(deliver_subject="out", max_batch=10)],
                                    "consumers[0].max_batch: max_batch is for pull consumers"),
    "priority groups on push": ([stream()], [consumer(deliver_subject="out", priority_policy="overflow",
                                                      priority_groups=["g"])],
                                "consumers[0].priority_policy: priority groups is for pull consumers"),
    "deliver_subject with wildcard": ([stream()], [consumer(deliver_subject="out.*")],
                                      "consumers[0].deliver_subject: deliver_subject 'out.*' cannot contain wildcards"),
    "deliver_subject captured by its stream": ([stream()], [consumer(deliver_subject="s.out")],
                                               "is captured by the stream itself"),
    "max_ack_pending with ack none on push": ([stream()], [consumer(deliver_subject="out", max_ack_pending=5)],
                                              "max_ack_pending needs an ack_policy other than none"),
    "push without acks under consumer_limits.max_ack_pending": (
        [stream(consumer_limits={"max_ack_pending": 10})], [consumer(deliver_subject="out")],
        "consumers[0].ack_policy: stream 'S' gives its consumers max_ack_pending 10 (consumer_limits), which a push "
        "consumer with ack_policy none cannot have"),
    "heartbeat under 100ms": ([stream()], [consumer(deliver_subject="out", idle_heartbeat="10ms")],
                              "idle_heartbeat must be at least 100ms"),
    "heartbeat on pull": ([stream()], [consumer(idle_heartbeat="5s")],
                          "consumers[0].idle_heartbeat: idle_heartbeat is for push consumers"),
    "rate limit on pull": ([stream()], [consumer(rate_limit_bps=1000)], "rate_limit_bps is for push consumers"),
    "deliver_group on pull": ([stream()], [consumer(deliver_group="g")], "deliver_group is for push consumers"),
    "flow control without heartbeat": ([stream()], [consumer(deliver_subject="out", flow_control=True)],
                                       "consumers[0].flow_control: flow_control needs idle_heartbeat"),
    "max_expires under 1ms": ([stream()], [consumer(max_expires="10us")], "max_expires must be 0 or at least 1ms"),
    "ack flow_control with unlimited max_ack_pending": (
        [stream()], [consumer(**ACK_FLOW_CONTROL, max_ack_pending=-1)],
        "consumers[0].max_ack_pending: ack_policy flow_control needs a max_ack_pending: leave it out"),
    "priority groups without policy": ([stream()], [consumer(priority_groups=["g"])],
                                       "consumers[0].priority_groups: priority_groups need a priority_policy"),
    "priority policy without groups": ([stream()], [consumer(priority_policy="pinned_client")],
                                       "priority_policy pinned_client needs priority_groups"),
    "priority timeout without pinning": ([stream()], [consumer(priority_timeout="1m")],
                                         "priority_timeout needs priority_policy: pinned_client"),
    "bad priority group name": ([stream()], [consumer(priority_policy="overflow", priority_groups=["a b"])],
                                "consumers[0].priority_groups[0]: invalid priority group 'a b'"),
    "consumer replicas above the stream's": ([stream(num_replicas=1)], [consumer(num_replicas=3)],
                                             "num_replicas 3 is more than the stream's 1"),
    "interest stream replicas must match": ([stream(num_replicas=3, retention="interest")], [consumer(num_replicas=1)],
                                            "retention interest must have the stream's num_replicas (3)"),
    "above the stream's consumer limits": ([stream(consumer_limits={"max_ack_pending": 10})],
                                           [consumer(max_ack_pending=100)],
                                           "consumers[0].max_ack_pending: max_ack_pending is above the stream's "
                                           "consumer_limits.max_ack_pending (10)"),
    "internal direct consumer": ([stream()], [consumer(direct=True)], "direct consumers are the server's own"),
    "workqueue needs explicit ack": ([stream(retention="workqueue")], [consumer()],
                                     "ack_policy: consumers of a workqueue stream need ack_policy: explicit"),
    "workqueue needs deliver all": ([stream(retention="workqueue")],
                                    [consumer(ack_policy="explicit", deliver_policy="new")],
                                    "need deliver_policy: all"),
    "workqueue with overlapping consumer filters": (
        [stream(retention="workqueue")],
        [consumer(ack_policy="explicit", filter_subject="s.*"),
         consumer(durable_name="D", ack_policy="explicit", filter_subject="s.a")],
        "consumers[1].filter_subject: filter 's.a' overlaps consumer 'C' (m.yaml:"),
    "workqueue with an unfiltered consumer among several": (
        [stream(retention="workqueue")],
        [consumer(ack_policy="explicit", filter_subject="s.a"), consumer(durable_name="D", ack_policy="explicit")],
        "consumers[1].stream: workqueue stream 'S' has several consumers: each needs a filter_subject"),
}


@pytest.mark.parametrize(("streams", "consumers", "expected"), CASES.values(), ids=CASES.keys())
def test_rule(streams, consumers, expected):
    text = "strems: []\n" if streams is None else None
    found = check(streams, consumers, text)
    assert len(found) == 1, found
    assert expected in found[0], found


def test_every_error_at_once_with_file_line_and_column():
    text = """streams:
  - name: S
    subjects: [s.*]
    max_age: 1x
  - name: T
    retention: work
consumers:
  - stream: S
    durable_name: C
    backoff: [1s, 2s]
    max_deliver: 1
  - stream: U
    durable_name: D
"""
    problems = []
    validate_documents([parse_document(text, "m.yaml", problems)], problems)
    assert sorted(str(p).split(": ")[0] for p in problems) == [
        "m.yaml:10:14", "m.yaml:12:13", "m.yaml:4:14", "m.yaml:6:16"]


def test_a_pasted_info_config_validates():
    """`nats stream info --json` .config as written by nats-server 2.12, `_nats.*` metadata included."""
    pasted = {"name": "S", "subjects": ["s.*"], "retention": "limits", "max_consumers": -1, "max_msgs": -1,
              "max_bytes": -1, "max_age": 0, "max_msgs_per_subject": -1, "max_msg_size": -1, "discard": "old",
              "storage": "file", "num_replicas": 1, "duplicate_window": 120000000000, "compression": "none",
              "allow_direct": True, "mirror_direct": False, "sealed": False, "deny_delete": False,
              "deny_purge": False, "allow_rollup_hdrs": False, "allow_msg_ttl": False, "consumer_limits": {},
              "metadata": {"_nats.req.level": "0", "_nats.ver": "2.12.8", "_nats.level": "3"}}
    assert check([pasted]) == []


def test_valid_manifest_gives_converted_configs():
    text = yaml.safe_dump({"streams": [stream(max_age="1d", max_bytes="1GB", metadata={"_nats.ver": "2", "a": "b"})],
                           "consumers": [consumer(name="C", ack_wait="1s", backoff=["1s", "1m"], max_deliver=5)]},
                     sort_keys=False)
    problems = []
    desired = validate_documents([parse_document(text, "m.yaml", problems)], problems)
    assert problems == []
    assert desired.streams["S"].config == {"name": "S", "subjects": ["s.*"], "max_age": 86_400 * 10**9,
                                           "max_bytes": 1 << 30, "metadata": {"a": "b"}}
    assert desired.consumers[("S", "C")].config == {"durable_name": "C", "name": "C", "ack_wait": 10**9,
                                                    "backoff": [10**9, 60 * 10**9], "max_deliver": 5}
    assert desired.consumers[("S", "C")].address == "consumer/S/C"
    assert desired.streams["S"].origin == "m.yaml:2:3"


def test_empty_sections_declare_nothing():
    assert check(text="streams:\nconsumers:\n") == []
    assert check(text="streams: {}\n") == ["streams: expected a list or nothing, got a mapping"]


def test_names_of_the_wrong_type_do_not_break_the_checks():
    found = check([stream(name=["S"])], [consumer(stream=["S"]), consumer(durable_name={"a": 1})])
    assert found == ["streams[0].name: expected a string, got a list",
                     "consumers[0].stream: expected a string, got a list",
                     "consumers[1].durable_name: expected a string, got a mapping"]


@pytest.mark.parametrize("kind", ["stream", "consumer"])
def test_any_value_of_any_type_in_any_field_is_a_message_not_a_crash(kind):
    from reconciler.manifest.schema import manifest_schema

    odd_values = [None, True, 1.5, -7, "x", [], ["x", 1], {}, {"x": [1]}]
    for field in manifest_schema()["$defs"][kind]["properties"]:
        for value in odd_values:
            if kind == "stream":
                found = check([stream(**{field: value})])
            else:
                found = check([stream()], [consumer(**{field: value})])
            assert all(": " in line for line in found), (field, value, found)


def test_an_unknown_field_does_not_hide_the_other_problems_of_its_item():
    assert check([stream(max_agee="1h", max_age="1h", duplicate_window="2h")]) == [
        "streams[0].max_agee: unknown field 'max_agee' (did you mean 'max_age'?)",
        "streams[0].duplicate_window: duplicate_window cannot be longer than max_age"]


def test_values_grouped_by_type_each_get_their_own_message():
    """Fields whose schema checks only the type are validated once per value type: every item still
    gets its message, with its own position, and floats are told apart (1.0 is an integer, 1.5 not)."""
    consumers = [consumer(durable_name=f"C{i}", filter_subject=value)
                 for i, value in enumerate(["s.a", 5, "s.b", 7, True, None])]
    streams = [{**BASE_STREAM, "name": f"S{i}", "subjects": [f"s{i}"], "sealed": value}
               for i, value in enumerate([True, 1.0, 1.5, "yes", False])]
    problems = check(streams=[BASE_STREAM, *streams], consumers=consumers)
    assert [p for p in problems if "filter_subject" in p] == [
        "consumers[1].filter_subject: expected a string, got an integer (quote it to make it text)",
        "consumers[3].filter_subject: expected a string, got an integer (quote it to make it text)",
        "consumers[4].filter_subject: expected a string, got true/false (quote it to make it text)",
        "consumers[5].filter_subject: expected a string, got nothing (quote it to make it text)",
    ]
    assert [p for p in problems if "sealed" in p] == [
        "streams[2].sealed: expected true or false, got a decimal number",
        "streams[3].sealed: expected true or false, got a decimal number",
        "streams[4].sealed: expected true or false, got a string",
    ]


def test_spaces_inside_a_mapping_function_of_a_destination_are_fine():
    """nats-server's ValidateMapping allows them there ({{ wildcard(1) }})."""
    assert check([stream(subject_transform={"src": "s.*", "dest": "t.{{ wildcard(1) }}"})]) == []


def test_filters_deliver_subjects_and_transforms_are_not_compared_pair_by_pair(monkeypatch):
    """Validation stays near-linear (issue #11): a consumer's filters and deliver subject are looked up in
    its stream's subjects indexed once, and a source's transforms in an index of the earlier ones; the
    pairwise comparison is used only for a stream's few fixed checks (API spaces, republish)."""
    from reconciler.manifest import checks

    calls = 0
    pairwise = checks.overlaps

    def counted(a: str, b: str) -> bool:
        nonlocal calls
        calls += 1
        return pairwise(a, b)

    monkeypatch.setattr(checks, "overlaps", counted)
    subjects, consumers, transforms = 2_000, 400, 300
    big = stream(subjects=[f"s.{i}.*" for i in range(subjects)])
    source = {"name": "AGG", "sources": [{"name": "S", "subject_transforms": [
        {"src": f"s.{i}.*", "dest": f"agg.{i}.{{{{wildcard(1)}}}}"} for i in range(transforms)]}]}
    filtered = [consumer(durable_name=f"C{i}", filter_subject=f"s.{subjects - 1 - i}.a", deliver_subject=f"o.{i}")
                for i in range(consumers)]
    assert check([big, source], filtered) == []
    assert calls <= len(checks._API_SPACES) * (subjects + transforms + 1), calls  # one round per subject


@st.composite
def small_subjects(draw) -> str:
    tokens = draw(st.lists(st.sampled_from(["a", "b", "*"]), min_size=1, max_size=3))
    return ".".join([*tokens[:-1], ">"] if draw(st.booleans()) else tokens)


@given(held=st.lists(small_subjects(), min_size=1, max_size=14, unique=True),  # compared, or indexed above 8
       filters=st.lists(small_subjects(), max_size=6), delivered=st.lists(st.sampled_from(["a", "b", "a.b", "c"])))
def test_filters_and_deliver_subjects_are_judged_as_comparing_every_pair(held, filters, delivered):
    consumers = [consumer(durable_name=f"F{i}", filter_subject=f) for i, f in enumerate(filters)]
    consumers += [consumer(durable_name=f"D{i}", deliver_subject=d) for i, d in enumerate(delivered)]
    found = check([{"name": "S", "subjects": held, "no_ack": True}], consumers)
    unmatched = {f"consumers[{i}].filter_subject" for i, f in enumerate(filters)
                 if not any(overlaps(f, s) for s in held)}
    captured = {f"consumers[{len(filters) + i}].deliver_subject" for i, d in enumerate(delivered)
                if any(overlaps(d, s) for s in held)}
    assert {p.split(": ")[0] for p in found if "matches no subject" in p} == unmatched
    assert {p.split(": ")[0] for p in found if "is captured by the stream" in p} == captured


def test_mirror_direct_is_refused_only_when_the_declared_origin_lacks_allow_direct():
    mirror = {"name": "M", "mirror": {"name": "S"}, "mirror_direct": True}
    assert check([stream(allow_direct=True), mirror]) == []
    assert check([mirror]) == []  # an origin no manifest declares: not known here
    external = {**mirror, "mirror": {"name": "S", "external": {"api": "$JS.hub.API"}}}
    assert check([stream(), external]) == []  # another domain's S


@pytest.mark.parametrize("written", [{}, {"max_ack_pending": 0}, {"max_ack_pending": 5}])
@pytest.mark.parametrize("limits", [{}, {"consumer_limits": {"max_ack_pending": 10}}])
def test_ack_flow_control_takes_the_servers_max_ack_pending(written, limits):
    """nats-server 2.14+ (the first with ack_policy flow_control) fills in the stream's limit, else 1000."""
    assert check([stream(**limits)], [consumer(**ACK_FLOW_CONTROL, **written)]) == []
