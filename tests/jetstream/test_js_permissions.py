"""A NATS user whose permissions leave out what a command needs gets one line naming it, never a bare
timeout or a traceback: a request it may not publish, the lock key it may not write, replies it may not
receive (the server drops the message and tells the client; the request then times out)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import HACK, REPO

from reconciler.errors import JsctlError
from reconciler.jetstream.client import PermissionDenied, unanswered

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


@settings(max_examples=300, deadline=None)
@given(subject=st.from_regex(r"\$JS\.API\.[A-Za-z0-9_.]{1,40}", fullmatch=True),
       other=st.from_regex(r"[A-Za-z0-9_.$>*]{1,40}", fullmatch=True), noise=st.text(max_size=80),
       kind=st.sampled_from(["Publish", "Subscription", "publish", "subscription"]))
def test_only_a_violation_the_server_reported_is_called_a_permission_denial(subject, other, noise, kind):
    """Whatever the client's last error says (any text, any subject), the answer is an error, never a crash;
    a denial only when the server named this very subject (publish) or an inbox subscription."""
    def answer(last_error):
        return unanswered(SimpleNamespace(last_error=last_error), subject, 5)

    violation = f'nats: permissions violation for {kind.lower()} to "{{}}"'
    assert type(answer(None)) is JsctlError and type(answer(Exception(noise))) is JsctlError
    denied = answer(Exception(violation.format(subject.lower())))
    assert isinstance(denied, PermissionDenied)
    assert (subject in str(denied)) == (kind.lower() == "publish")
    elsewhere = answer(Exception(violation.format(other.lower())))
    named_this_subject = kind.lower() == "publish" and other.lower() == subject.lower()
    assert isinstance(elsewhere, PermissionDenied) == (kind.lower() == "subscription" or named_this_subject)
