"""Validate's refusals of a key-value bucket are the servers' (tests/matrix/conftest.py: every supported version):
each bucket validate refuses, sent anyway as the stream stream_config makes of it, is refused by the server,
stored as another bucket (2.10 drops a preferred placement), or its field is a plan error on that version
(capabilities: 2.10 drops limit markers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

from reconciler.errors import ManifestError
from reconciler.jetstream.buckets import KV, same_bucket, stream_config
from reconciler.jetstream.capabilities import parse_version, unsupported
from reconciler.jetstream.client import ApiError, JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest import load_desired
from reconciler.manifest.schema import unit_table
from reconciler.manifest.units import convert_units

S = 1_000_000_000
# name -> (the bucket "b" as written, the start of validate's message)
REFUSED: dict[str, tuple[str, str]] = {
    "ttl": ("{bucket: b, ttl: 10ms}", "ttl must be 0 (kept forever) or at least 100ms"),
    "marker_ttl": ("{bucket: b, limit_marker_ttl: 500ms}", "limit_marker_ttl must be at least 1s"),
    "mirror_markers": ("{bucket: b, mirror: origin, limit_marker_ttl: 5s}", "a mirror cannot have limit markers"),
    "mirror_self": ("{bucket: b, mirror: b}", "a bucket cannot mirror itself"),
    "mirror_sources": ("{bucket: b, mirror: origin, sources: [other]}", "a mirror cannot have sources"),
    "source_twice": ("{bucket: b, sources: [origin, origin]}", "duplicate source 'origin'"),
    "source_self": ("{bucket: b, sources: [b]}", "a bucket cannot source itself"),
    "republish_cycle": ("{bucket: b, republish: {dest: $KV.b.x}}", "republishing to '$KV.b.x' would feed"),
    "preferred": ("{bucket: b, placement: {preferred: s1}}", "the server does not accept a preferred server"),
}


async def create(url: str, server: tuple[int, int, int], spec: dict[str, Any]) -> dict[str, Any] | ApiError:
    """The stored config of the bucket ``spec``, or the server's refusal."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        for origin in ("origin", "other"):
            await api.request(f"STREAM.CREATE.KV_{origin}", stream_config(KV, {"bucket": origin}, server))
        try:
            return (await api.request("STREAM.CREATE.KV_b", stream_config(KV, spec, server)))["config"]
        except ApiError as refused:
            return refused
    finally:
        await nc.close()


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_validate_refuses_the_server_refuses(js_account, nats_server_version, tmp_path, case):
    written, message = REFUSED[case]
    manifest = tmp_path / "buckets.yaml"
    manifest.write_text(f"key_value: [{written}]\n")
    with pytest.raises(ManifestError) as refused:
        load_desired([manifest])
    assert any(message in line for line in refused.value.lines), refused.value.lines
    spec = _as_spec(written)
    server = parse_version(nats_server_version)
    stored = asyncio.run(create(js_account, server, spec))
    assert isinstance(stored, ApiError) or not same_bucket(KV, spec, stored, server) or unsupported(KV, spec, server)


def _as_spec(written: str) -> dict[str, Any]:
    """The bucket as written, durations in nanoseconds (as validation would convert them, had it passed)."""
    spec = yaml.safe_load(written)
    assert convert_units(spec, unit_table()[KV]) == []
    return spec
