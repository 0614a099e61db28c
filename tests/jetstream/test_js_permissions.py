"""A NATS user whose permissions leave out what a command needs gets one line naming it, never a bare
timeout or a traceback: a request it may not publish, the lock key it may not write, replies it may not
receive (the server drops the message and tells the client; the request then times out)."""

from __future__ import annotations

import json

import pytest
from support import HACK, REPO

HACK_CONF = (HACK / "nats-server.conf").read_text()


def apply_permissions() -> dict:
    """hack/nats-server.conf's APPLY permissions (written as JSON there)."""
    start = HACK_CONF.index("APPLY = {") + len("APPLY = ")
    return json.JSONDecoder().raw_decode(HACK_CONF, start)[0]


def without(allowed: list[str], subject: str) -> list[str]:
    assert subject in allowed
    return [s for s in allowed if s != subject]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda p: {**p, "publish": {"allow": without(p["publish"]["allow"], "$KV.jsctl_locks.>")}},
     "permission denied: this NATS user may not publish to $KV.jsctl_locks.apply "
     "(the permissions each command needs: docs/gitops.md)"),
    (lambda p: {**p, "subscribe": {"deny": ["_INBOX.>"]}},
     "permission denied: this NATS user may not subscribe to its inbox, where the replies to its requests "
     "arrive (allow _INBOX.>; docs/gitops.md)"),
], ids=["lock-key", "inbox"])
def test_a_missing_permission_is_named_in_one_line(jsctl, nats_server_factory, change, expected):
    user = {"user": "ci", "password": "ci-password", "permissions": change(apply_permissions())}
    server = nats_server_factory(f"authorization {{ users: [{json.dumps(user)}] }}")
    done = jsctl("apply", "--yes", "-f", str(REPO / "streams.yaml"),
                 env={"NATS_URL": server.url, "NATS_USER": "ci", "NATS_PASSWORD": "ci-password"})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"jsctl: error: {expected}\n"
