"""Validate's limits against every supported server version (tests/matrix/conftest.py).

- values at the edge of what validate accepts (names of 255 bytes, integers at their Go type's maximum,
  the longest duration) are created by `jsctl apply` on every version: validate accepts nothing apply
  cannot carry out;
- what every version refuses (a NUL in a name, a name over 255 bytes, an integer beyond its Go type, 1.0
  for an integer) validate refuses too, before anything is sent.
"""

from __future__ import annotations

import asyncio

import pytest
from support import write_manifests

from reconciler.jetstream.client import ApiError, JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

I64, U64, I32 = 2**63 - 1, 2**64 - 1, 2**31 - 1

EDGE_STREAMS = [
    {"name": "é" * 127, "subjects": ["edge.accent"]},  # 254 bytes
    {"name": "x" * 255, "subjects": ["edge.long"]},
    {"name": "a$b~c:d-e_f", "subjects": ["edge.é.a-b_c"]},
    # (max_bytes is left out: the server checks it against the storage it has, which plan reports)
    {"name": "MAX", "subjects": ["edge.max"], "max_msgs": I64, "max_consumers": I64,
     "max_msgs_per_subject": I64, "max_msg_size": I32, "max_age": I64, "duplicate_window": "1d",
     "first_seq": U64},
]
EDGE_CONSUMERS = [
    {"stream": "MAX", "durable_name": "C", "ack_policy": "explicit", "max_deliver": I64, "max_ack_pending": I64,
     "max_waiting": I64, "max_batch": I64, "max_bytes": I64, "ack_wait": I64, "inactive_threshold": I64,
     "max_expires": I64, "deliver_policy": "by_start_sequence", "opt_start_seq": U64},
    {"stream": "MAX", "durable_name": "P", "ack_policy": "explicit", "deliver_subject": "edge.out",
     "rate_limit_bps": U64, "idle_heartbeat": "1s"},
]


def test_values_at_the_edge_of_what_validate_accepts_are_created(jsctl, js_account, tmp_path):
    files = write_manifests(tmp_path, EDGE_STREAMS, EDGE_CONSUMERS)
    valid = jsctl("validate", *files)
    assert valid.returncode == 0, valid.stderr
    done = jsctl("apply", *files, "--yes", env={"NATS_URL": js_account})
    assert done.returncode == 0, done.stdout + done.stderr


REFUSED = {  # what every supported version refuses in a stream config
    "a NUL in the name": {"name": "nul\0x"},
    "a name of 256 bytes": {"name": "é" * 128},
    "int64 beyond its range": {"max_msgs": I64 + 1},
    "int32 beyond its range": {"max_msg_size": I32 + 1},
    "uint64 beyond its range": {"first_seq": U64 + 1},
    "a duration beyond int64": {"max_age": I64 + 1},
    "1.0 for an integer": {"num_replicas": 1.0},
    "an external API prefix with a wildcard": {"sources": [{"name": "S", "external": {"api": "$JS.*.API"}}]},
    "the account's own API as an external prefix": {"sources": [{"name": "S", "external": {"api": "$JS.API"}}]},
    "an external deliver prefix with a wildcard": {
        "sources": [{"name": "S", "external": {"api": "$JS.hub.API", "deliver": "dl.*"}}]},
}


@pytest.mark.parametrize("fields", REFUSED.values(), ids=REFUSED.keys())
def test_what_the_server_refuses_validate_refuses(jsctl, js_account, tmp_path, fields):
    config = {"name": "R", "subjects": ["refused"], **fields}

    async def create() -> None:
        nc = await connect_nats(NatsSettings(url=js_account))
        try:
            await JetStreamApi(nc).request(f"STREAM.CREATE.{config['name']}", config)
        finally:
            await nc.close()

    with pytest.raises(ApiError):
        asyncio.run(create())
    result = jsctl("validate", *write_manifests(tmp_path, [config], []))
    assert result.returncode == 1 and "streams.yaml:" in result.stderr, result.stderr
