"""The committed server knowledge (tests/data/server_versions/) still describes each real server.

If a probe changes or a server behaves differently, regenerate with
``python tests/tools/server_versions.py`` and review the diff (docs/server-versions.md).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from servers_matrix import version_line
from support import REFERENCE_SCHEMAS
from tools.server_versions import load, probe_server


@pytest.mark.skipif(REFERENCE_SCHEMAS is None, reason="../shared/reference is not beside this checkout")
def test_committed_knowledge_matches_the_server(js_account, nats_server_version):
    measured = json.loads(json.dumps(asyncio.run(probe_server(js_account))))
    committed = load(nats_server_version)
    assert measured.keys() == committed.keys()
    for section, expected in committed.items():
        assert measured[section] == expected, f"{nats_server_version}: {section} differs; regenerate and review"


def test_unknown_fields_dropped_before_2_12_and_refused_after(nats_server_version):
    outcome = load(nats_server_version)["unknown_field"]
    if version_line(nats_server_version) < (2, 12):
        assert outcome == {"stream": {"outcome": "dropped"}, "consumer": {"outcome": "dropped"}}
    else:
        assert {o["error"]["err_code"] for o in outcome.values()} == {10025}
