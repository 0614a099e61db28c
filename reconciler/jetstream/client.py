"""A thin client for the raw ``$JS.API`` request/reply protocol.

jsctl reads and writes stream and consumer configs as raw JSON (nats-py's config dataclasses
drop fields they do not know), so every JetStream call in the project goes through here.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import JsctlError

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg

DEFAULT_TIMEOUT_S = 5.0
JS_NOT_ENABLED_CODES = {10039}  # "jetstream not enabled for account"
# "error creating store for stream": right after an account's last stream was deleted, nats-server may
# still be removing its streams directory while a create makes it again (measured on 2.12.8: about
# 1 create in 100 right after such a delete); the same create succeeds 20 ms later.
STORE_NOT_CREATED = 10049
STORE_RETRIES = 5
# One encoder for every request: json.dumps with options builds a new one per call (apply sends thousands)
_encode = json.JSONEncoder(separators=(",", ":")).encode
NO_RESPONDERS = "503"  # the Status header of the answer the server sends when no one subscribes to a request
# The caller's own user and account, answered by every nats-server jsctl supports (2.10+; measured in
# tests/matrix/test_account_identity.py): $JS.API.INFO does not name the account.
USER_INFO = "$SYS.REQ.USER.INFO"
# Shared by every conditional KV write (entries.py, lock.py)
ERR_NO_MESSAGE = 10037  # STREAM.MSG.GET: no message on that subject
# A write's Nats-Expected-Last-Subject-Sequence did not match: 10071 names the sequence it found; 10164 is
# the same refusal without it (2.11+ replicated streams, under contention); the clients treat both alike
ERR_WRONG_LAST_SEQUENCE = frozenset({10071, 10164})
KV_DELETE_OPERATIONS = ("DEL", "PURGE")  # the KV-Operation header of a message that deletes its key


def _decode(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def stored_headers(raw: str | None) -> dict[str, str]:
    """The headers of a message STREAM.MSG.GET returned (``hdrs``: base64 of ``NATS/1.0\r\nName: value...``)."""
    if not raw:
        return {}
    lines = base64.b64decode(raw).decode(errors="replace").split("\r\n")[1:]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}


class NoResponders(Exception):
    """Nothing subscribes to the subject a request was sent to."""


class Replies:
    """Request/reply over one inbox subscription per connection, answers matched by a counter in the
    reply subject: what nats-py's ``request`` does, less its per-request costs (a random token from
    os.urandom, a done-callback, a second subject check): ~15-20 us a request, 0.08 s of an apply's 5,000."""

    def __init__(self, nc: NatsClient):
        self.nc = nc
        self.inbox = ""
        self.waiting: dict[str, asyncio.Future[Msg]] = {}
        self.tokens = itertools.count()

    async def request(self, subject: str, data: bytes, timeout: float) -> Msg:
        """The answer; raises NoResponders, or asyncio.TimeoutError after ``timeout`` seconds."""
        if not self.inbox:
            inbox = f"{self.nc.new_inbox()}."
            await self.nc.subscribe(f"{inbox}*", cb=self._answer)
            self.inbox = inbox
        token = str(next(self.tokens))
        answer: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self.waiting[token] = answer
        try:
            await self.nc.publish(subject, data, reply=self.inbox + token)
            msg = await asyncio.wait_for(answer, timeout)
        finally:
            self.waiting.pop(token, None)
        if msg.headers and msg.headers.get("Status") == NO_RESPONDERS:
            raise NoResponders(subject)
        return msg

    async def _answer(self, msg: Msg) -> None:
        answer = self.waiting.get(msg.subject[len(self.inbox):])
        if answer is not None and not answer.done():
            answer.set_result(msg)


class ApiError(JsctlError):
    """The server answered a $JS.API request with an error."""

    def __init__(self, subject: str, code: int, err_code: int, description: str):
        self.subject, self.code, self.err_code, self.description = subject, code, err_code, description
        super().__init__(f"{subject}: {description} (code {code}, err_code {err_code})")


class PermissionDenied(JsctlError):
    """The server refused this user a publish or a subscription its permissions do not allow."""


# What nats-server sends (as -ERR, never as a reply) when a user publishes or subscribes outside its
# permissions; the message itself is dropped. nats-py keeps it, lower-cased, as the client's last error.
_VIOLATION = re.compile(r'permissions violation for (publish|subscription) to "([^"]+)"', re.IGNORECASE)


def _violation(nc: NatsClient) -> tuple[str, str] | None:
    """The last refusal the server sent this client: ("publish" or "subscription", the subject lower-cased)."""
    found = _VIOLATION.search(str(nc.last_error or ""))
    return (found[1].lower(), found[2].lower()) if found else None


def unanswered(nc: NatsClient, subject: str, timeout: float) -> JsctlError:
    """Why a request to ``subject`` got no reply within ``timeout``: the user may not publish to it, or may
    not subscribe where replies arrive (the server said so), else no responder answered in time."""
    found = _violation(nc)
    if found == ("publish", subject.lower()):
        return PermissionDenied(f"permission denied: this NATS user may not publish to {subject} "
                                "(the permissions each command needs: docs/gitops.md)")
    if found and found[0] == "subscription":
        return PermissionDenied("permission denied: this NATS user may not subscribe to its inbox, where the "
                                "replies to its requests arrive (allow _INBOX.>; docs/gitops.md)")
    return JsctlError(f"{subject}: no answer within {timeout:.0f}s")


@dataclass
class ServerIdentity:
    name: str
    server_id: str
    version: str
    cluster: str | None
    api_level: int  # 0 when the server does not report one (2.10)
    account: str | None = None  # None when this user may not ask (see JetStreamApi.account)
    domain: str | None = None  # the JetStream domain, when the server has one


class JetStreamApi:
    def __init__(self, nc: NatsClient, *, prefix: str = "$JS.API", timeout: float = DEFAULT_TIMEOUT_S):
        self.nc, self.prefix, self.timeout = nc, prefix, timeout
        self.replies = Replies(nc)

    async def request(self, subject: str, payload: dict[str, Any] | None = None,
                      timeout: float | None = None) -> dict[str, Any]:
        """The reply of one request; an error reply raises ApiError (a stream create the server could
        not give a store to yet is tried again, a bounded number of times)."""
        for attempt in range(1, STORE_RETRIES + 1):
            try:
                return await self._request_once(subject, payload, timeout)
            except ApiError as exc:
                if exc.err_code != STORE_NOT_CREATED or not subject.startswith("STREAM.CREATE."):
                    raise
            await asyncio.sleep(0.02 * attempt)
        return await self._request_once(subject, payload, timeout)

    async def _request_once(self, subject: str, payload: dict[str, Any] | None,
                            timeout: float | None) -> dict[str, Any]:
        full = f"{self.prefix}.{subject}"
        data = b"" if payload is None else _encode(payload).encode()
        try:
            msg = await self.replies.request(full, data, timeout or self.timeout)
        except NoResponders:
            raise JsctlError(f"{full}: no JetStream responders (is JetStream enabled for this account?)") from None
        except asyncio.TimeoutError:
            raise unanswered(self.nc, full, timeout or self.timeout) from None
        try:
            reply = json.loads(msg.data)
        except ValueError:
            raise JsctlError(f"{full}: the server sent a reply that is not JSON") from None
        error = reply.get("error")
        if error:
            if error.get("err_code") in JS_NOT_ENABLED_CODES:
                raise JsctlError("JetStream is not enabled for this account") from None
            raise ApiError(full, error.get("code", 0), error.get("err_code", 0), error.get("description", "?"))
        return reply

    async def paged(self, subject: str, key: str, payload: dict[str, Any] | None = None,
                    unreadable: dict[str, str] | None = None) -> list[Any]:
        """All pages of a LIST/NAMES request (the server pages at 256 or 1024 items).

        A LIST reply names under ``missing`` what exists but could not be read (on a cluster: no
        replica answered), and from 2.12 under ``offline`` why (e.g. a stream a newer server
        created); those go to ``unreadable`` (name -> reason, "" if none) and count towards the offset.
        """
        items: list[Any] = []
        unread = unreadable if unreadable is not None else {}
        while True:
            reply = await self.request(subject, {**(payload or {}), "offset": len(items) + len(unread)})
            page, reasons = reply.get(key) or [], reply.get("offline") or {}
            items.extend(page)
            unread.update({name: reasons.get(name, "") for name in [*(reply.get("missing") or []), *reasons]})
            if not (page or reasons or reply.get("missing")) or len(items) + len(unread) >= reply.get("total", 0):
                return items

    async def identity(self) -> ServerIdentity:
        jetstream, account = await asyncio.gather(self.request("INFO"), self.account())
        info = self.nc._server_info  # nats-py keeps the server's INFO here; there is no public accessor
        return ServerIdentity(
            name=info.get("server_name", ""),
            server_id=info.get("server_id", ""),
            version=info.get("version", ""),
            cluster=info.get("cluster"),
            api_level=int((jetstream.get("api") or {}).get("level", 0)),
            account=account,
            domain=jetstream.get("domain") or None,
        )

    async def account(self) -> str | None:
        """The name of this connection's account (``account_name`` from 2.12: a JWT account's name, not its
        public key), or None when the user may not publish to USER_INFO or nothing answers.

        A refused publish gets no reply, only the server's -ERR, which it sends before the PONG of a PING
        written after the publish: the second flush's (nats-py writes a flush's PING ahead of publishes
        still queued; the first flush's round trip lets them out)."""
        from nats.errors import Error as NatsError

        answer = asyncio.ensure_future(self.replies.request(USER_INFO, b"", self.timeout))
        try:
            for _ in range(2):
                await self.nc.flush(self.timeout)
            if _violation(self.nc) == ("publish", USER_INFO.lower()):
                return None
            msg = await answer
        except (asyncio.TimeoutError, NoResponders, NatsError):
            return None
        finally:
            answer.cancel()
        user = (_decode(msg.data) or {}).get("data") or {}
        return user.get("account_name") or user.get("account") or None
