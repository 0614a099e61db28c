"""Opening a NATS connection, with failures as one line that names the server and the cause, never a secret."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionFailed, UserError, keep_secret, redact
from .credentials import check_creds_file, read_user_seed
from .settings import NatsSettings

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

CONNECT_TIMEOUT_S = 5


def _tls_context(settings: NatsSettings) -> ssl.SSLContext | None:
    wants_tls = settings.tls_ca or settings.tls_cert or any(
        u.startswith(("tls://", "wss://")) for u in settings.servers)
    if not wants_tls:
        return None
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise UserError("--tls-cert and --tls-key must be given together")
    try:
        ctx = ssl.create_default_context(cafile=settings.tls_ca)
        if settings.tls_cert:
            ctx.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise UserError(f"TLS files: {getattr(exc, 'strerror', None) or exc}") from None
    return ctx


def _connect_options(settings: NatsSettings) -> dict[str, Any]:
    methods = [flag for flag, value in (("--nkey", settings.nkey), ("--creds", settings.creds),
                                        ("--user", settings.user), ("--token", settings.token)) if value]
    if len(methods) > 1:
        raise UserError(f"choose one way to authenticate, not {' and '.join(methods)} "
                        "(flags, environment and the nats context together)")
    opts: dict[str, Any] = {"servers": settings.servers}
    if settings.nkey:
        opts["nkeys_seed_str"] = read_user_seed(settings.nkey)
    if settings.creds:
        check_creds_file(settings.creds)
        opts["user_credentials"] = settings.creds
    if settings.user:
        opts["user"] = settings.user
        opts["password"] = settings.password or ""
    if settings.token:
        opts["token"] = settings.token
    tls = _tls_context(settings)
    if tls is not None:
        logging.getLogger("asyncio").addFilter(_drop_tls_eof_warning)
        opts["tls"] = tls
        opts["tls_handshake_first"] = settings.tls_first
    return opts


def _drop_tls_eof_warning(record: logging.LogRecord) -> bool:
    """asyncio warns on stderr when a TLS server closes a stream nats-py reads; nothing to act on."""
    return "eof_received()" not in record.getMessage()


def describe_connect_error(exc: BaseException | None, *, tls: bool = False) -> str:
    """A short human cause for a failed connection attempt."""
    if exc is None:
        return "no server answered"
    text = str(exc).strip().strip("'\"")
    low = text.lower()
    if "certificate_required" in low:
        return "TLS handshake failed (the server requires a client certificate: --tls-cert/--tls-key)"
    if tls and ("connection lost" in low or isinstance(exc, (ConnectionResetError, BrokenPipeError))):
        # what a server that requires a client certificate may also do to a client without one
        # (a reset, or a broken pipe when the close races the client's CONNECT)
        return "the server closed the connection during TLS (does it require a client certificate? --tls-cert)"
    if "authorization" in low or "authentication" in low:
        return "authorization refused by the server"
    if isinstance(exc, ssl.SSLError) or "ssl" in low or "certificate" in low:
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or text
        hint = "; is --tls-ca the CA that signed the server's certificate?" if "verify" in low else ""
        return f"TLS handshake failed ({reason}{hint})"
    if isinstance(exc, ConnectionRefusedError) or "connect call failed" in low or "refused" in low:
        return "connection refused"
    if "secure connection" in low or "tls" in low:
        return f"TLS required or not available ({text})"
    if isinstance(exc, TimeoutError) or "timeout" in low:
        return "timed out"
    return text or type(exc).__name__


async def connect_nats(settings: NatsSettings, *, name: str = "jsctl", **overrides: Any) -> NatsClient:
    """Open a NATS connection or raise ConnectionFailed naming the server and the cause."""
    import nats

    last_error: list[BaseException] = []

    async def on_error(exc: BaseException) -> None:
        last_error.append(exc)

    keep_secret(*settings.secrets())
    opts = _connect_options(settings)
    # The first connection fails fast: each server is tried twice, and a TLS or authorization
    # failure ends it at once (with reconnecting allowed, nats-py hangs forever after a failed
    # TLS upgrade, nats-io/nats.py#718); an overall deadline guards against any other hang.
    opts.update(
        name=name,
        connect_timeout=CONNECT_TIMEOUT_S,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        error_cb=on_error,
    )
    opts.update(overrides)
    deadline = CONNECT_TIMEOUT_S * (2 * len(settings.servers) + 1)
    try:
        nc = await asyncio.wait_for(nats.connect(**opts), deadline)
    except Exception as exc:
        cause = last_error[-1] if last_error and type(exc).__name__ in ("NoServersError", "TimeoutError") else exc
        raise ConnectionFailed(
            redact(f"cannot connect to NATS at {settings.display_servers}: "
                   f"{describe_connect_error(cause, tls='tls' in opts)}", settings.secrets())
        ) from None
    # Once connected, the client reconnects forever: long-running commands (the worker) rely on it.
    nc.options.update(allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
    return nc
