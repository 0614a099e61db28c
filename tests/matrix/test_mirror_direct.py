"""A mirror's mirror_direct on every supported version (tests/matrix/conftest.py): creating a mirror of a
stream of the account, the server sets mirror_direct to the origin's allow_direct, whatever was asked.
Validate refuses mirror_direct: true on a mirror of a declared origin without allow_direct (it would be
stored false, and apply's verify would fail); what its message says to set applies and plans empty."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import apply_and_replan, write_manifests

from reconciler.errors import ManifestError
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings
from reconciler.manifest import load_desired

ORIGIN = {"name": "ORIGIN", "subjects": ["origin.>"]}
MIRROR = {"name": "M", "mirror": {"name": "ORIGIN"}, "mirror_direct": True}


async def stored_mirror_direct(url: str, origin: dict[str, Any], mirror: dict[str, Any]) -> bool:
    """Create ``origin`` and ``mirror`` with raw API requests; the mirror_direct the server stored."""
    nc = await connect_nats(NatsSettings(url=url))
    try:
        api = JetStreamApi(nc)
        await api.request(f"STREAM.CREATE.{origin['name']}", origin)
        reply = await api.request(f"STREAM.CREATE.{mirror['name']}", mirror)
        return bool(reply["config"].get("mirror_direct"))
    finally:
        await nc.close()


@pytest.mark.parametrize("allow_direct", [False, True])
def test_the_server_takes_mirror_direct_from_the_origin(js_account, allow_direct):
    origin = {**ORIGIN, "name": f"O{int(allow_direct)}", "allow_direct": allow_direct}
    for asked in (True, False):
        mirror = {"name": f"M{int(allow_direct)}{int(asked)}", "mirror": {"name": origin["name"]},
                  "mirror_direct": asked}
        assert asyncio.run(stored_mirror_direct(js_account, origin, mirror)) is allow_direct


def test_validate_refuses_mirror_direct_without_a_direct_origin_and_its_advice_applies(js_account, tmp_path):
    write_manifests(tmp_path, [ORIGIN, MIRROR], [])
    with pytest.raises(ManifestError) as refused:
        load_desired([tmp_path])
    assert refused.value.lines == [
        f"{tmp_path}/streams.yaml:8:18: streams[1].mirror_direct: mirror_direct: true needs allow_direct: true on "
        f"the origin stream 'ORIGIN' ({tmp_path}/streams.yaml:2:3): the server takes a mirror's mirror_direct "
        "from it; set that, or drop mirror_direct"]
    write_manifests(tmp_path, [{**ORIGIN, "allow_direct": True}, MIRROR], [])
    assert apply_and_replan(js_account, tmp_path) == {}
