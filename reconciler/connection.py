"""Connection settings for NATS and Postgres, shared by every command that connects.

Precedence is per field: command-line flag > environment variable > natscli context.
Flags and environment are merged by click (each option has an ``envvar``); this module fills
what is still unset from the context and turns connection failures into one-line errors that
name the server and the cause, never a secret.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .credentials import redact_url, url_secrets
from .errors import ConnectionFailed, UserError, keep_secret, redact

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class NatsSettings:
    """Everything needed to open a NATS connection. Secret fields are kept out of repr."""

    url: str | None = None
    nkey: str | None = None  # path of a seed file
    creds: str | None = None  # path of a .creds file
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_first: bool = False
    context: str | None = None

    @property
    def servers(self) -> list[str]:
        return [u.strip() for u in (self.url or DEFAULT_NATS_URL).split(",") if u.strip()]

    @property
    def display_servers(self) -> str:
        """The server list as it may be shown: every credential in it replaced by ``***``."""
        return redact_url(",".join(self.servers))

    def secrets(self) -> list[str]:
        """Strings that must never be printed (passwords, tokens, credentials in URLs)."""
        return [s for s in (self.password, self.token) if s] + url_secrets(",".join(self.servers))


def nats_config_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "nats"


# natscli context JSON key -> NatsSettings field
_CONTEXT_KEYS = {
    "url": "url",
    "nkey": "nkey",
    "creds": "creds",
    "user": "user",
    "password": "password",
    "token": "token",
    "ca": "tls_ca",
    "cert": "tls_cert",
    "key": "tls_key",
    "tls_first": "tls_first",
}


def load_context(name: str | None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read a natscli context; without a name, the one natscli has selected (if any)."""
    home = nats_config_home(env)
    explicit = bool(name)
    if not name:
        selected = home / "context.txt"
        name = selected.read_text().strip() if selected.is_file() else ""
        if not name:
            return {}
    path = home / "context" / f"{name}.json"
    if not path.is_file():
        if explicit:
            raise UserError(f"nats context {name!r} not found (looked for {path})")
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"nats context {name!r} ({path}) is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"nats context {name!r} ({path}) must be a JSON object")
    return {ours: data[theirs] for theirs, ours in _CONTEXT_KEYS.items() if data.get(theirs) not in (None, "")}


# Fields that only make sense together: when a flag or variable sets one of a group, the
# context's values for the whole group are ignored (an --nkey must not be paired with the
# context's creds, a --tls-cert with the context's key).
_TOGETHER = (("nkey", "creds", "user", "password", "token"), ("tls_cert", "tls_key"))


def resolve_nats_settings(given: NatsSettings, env: Mapping[str, str] | None = None) -> NatsSettings:
    """Fill the fields that neither a flag nor the environment set from the natscli context."""
    from_context = load_context(given.context, env)
    for group in _TOGETHER:
        if any(getattr(given, name) for name in group):
            from_context = {name: value for name, value in from_context.items() if name not in group}
    unset = {f.name: from_context[f.name] for f in fields(given)
             if f.name in from_context and getattr(given, f.name) in (None, False)}
    settings = replace(given, **unset)
    for path_field in ("nkey", "creds", "tls_ca", "tls_cert", "tls_key"):
        value = getattr(settings, path_field)
        if value:
            settings = replace(settings, **{path_field: os.path.expanduser(value)})
    return settings


def _read_secret_file(path: str, what: str) -> str:
    """The text of a file holding a secret; unreadable or binary, a UserError that quotes none of it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {path}: not a text file (it is not valid UTF-8)") from None


def read_user_seed(path: str) -> str:
    """The nkey user seed in ``path`` (first line starting with ``S``), checked, never echoed."""
    text = _read_secret_file(path, "nkey seed file")
    candidates = [line.strip() for line in text.splitlines() if line.strip().startswith("S")]
    if not candidates:
        raise UserError(f"nkey seed file {path}: no seed found (a seed is a line starting with 'SU')")
    seed = candidates[0]
    keep_secret(seed)
    role = seed_role(seed)
    if role is None:
        raise UserError(f"nkey seed file {path}: the seed is malformed")
    if role != "user":
        raise UserError(f"nkey seed file {path}: holds a seed of type {role}, connecting needs a user seed (SU...)")
    return seed


def check_creds_file(path: str) -> None:
    """Check a .creds file (as `nsc generate creds` writes it) before nats-py reads it: it gives
    obscure errors, or loops forever, on a file without the expected blocks."""
    text = _read_secret_file(path, "creds file")
    blocks = dict(_CREDS_BLOCK.findall(text))
    keep_secret(*blocks.values())
    if blocks.get("NATS USER JWT", "").count(".") != 2:
        raise UserError(f"creds file {path}: no user JWT found (expected the layout `nsc generate creds` writes)")
    seed = blocks.get("USER NKEY SEED", "")
    if not seed:
        raise UserError(f"creds file {path}: no user nkey seed found")
    if seed_role(seed) != "user":
        raise UserError(f"creds file {path}: the user nkey seed is malformed")


# "-----BEGIN NAME-----" followed by the value alone on the next line
_CREDS_BLOCK = re.compile(r"^-+BEGIN ([A-Z ]+?)-+[ \t]*\r?\n[ \t]*(\S+)[ \t]*\r?$", re.MULTILINE)
_SEED_BYTES = 2 + 32 + 2  # prefix bytes, key, CRC-16
NKEY_ROLES = ("user", "account", "operator", "server", "cluster")


def nkey_prefix(role: str) -> int:
    """The nkeys prefix byte of a role (``user`` -> ``PREFIX_BYTE_USER``)."""
    import nkeys

    return getattr(nkeys, f"PREFIX_BYTE_{role.upper()}")


def seed_role(seed: str) -> str | None:
    """``user``/``account``/``operator``/... for a well-formed seed, None when it is malformed.

    The nkeys package neither checks the length nor the checksum, so a mistyped seed would be
    taken for another key; this checks both, as the Go implementation does.
    """
    import nkeys

    try:
        raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
        prefix, _ = nkeys.decode_seed(seed.encode())
    except (ValueError, nkeys.NkeysError):
        return None
    if len(raw) != _SEED_BYTES or nkeys.crc16_checksum(raw[:-2]) != raw[-2:]:
        return None
    return next((role for role in NKEY_ROLES if nkey_prefix(role) == prefix), None)


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


# ---------------------------------------------------------------- Postgres


@dataclass(frozen=True)
class DatabaseSettings:
    url: str | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def display_url(self) -> str:
        """The URL as it may be shown: every credential in it replaced by ``***``."""
        return redact_url(self.url) if self.url else "(none)"

    def secrets(self) -> list[str]:
        return url_secrets(self.url) if self.url else []

    def _scheme_and_rest(self) -> tuple[str, str]:
        assert self.url
        scheme, sep, rest = self.url.partition("://")
        if not sep or (scheme not in ("postgres", "postgresql") and not scheme.startswith("postgresql+")):
            raise UserError(f"database URL must look like postgresql://user:password@host:port/db "
                            f"(got {scheme + '://' if sep else 'no scheme'})")
        return scheme, rest

    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg (v3) driver, whatever postgres scheme the user wrote."""
        return f"postgresql+psycopg://{self._scheme_and_rest()[1]}"

    def libpq_url(self) -> str:
        """The URL as libpq, psycopg and asyncpg take it, checked first by libpq's own parser and for
        ports that are numbers (libpq checks those only when it connects, asyncpg raises a ValueError)."""
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        url = f"postgresql://{self._scheme_and_rest()[1]}"
        if "\x00" in url:  # libpq would read up to it only
            raise self._bad_url("it contains a NUL character")
        try:
            ports = str(conninfo_to_dict(url).get("port") or "")
        except UnicodeEncodeError:  # bytes that were not UTF-8 in the environment; its message quotes one
            raise self._bad_url("it is not valid UTF-8") from None
        except (ProgrammingError, ValueError) as exc:
            raise self._bad_url(str(exc)) from None
        for port in ports.split(","):
            if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
                raise self._bad_url(f"port {port!r} is not a number from 1 to 65535")
        return url

    def _bad_url(self, problem: str) -> UserError:
        return UserError(redact(f"database URL {self.display_url}: {problem}", self.secrets()))


def describe_database_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = text.lower()
    if "authentication failed" in low:
        return "authentication failed (wrong user or password)"
    if "connection refused" in low or "connect call failed" in low:
        return "connection refused"
    if "does not exist" in low:
        return text.replace("FATAL:  ", "")
    return text


def database_error(settings: DatabaseSettings, exc: BaseException) -> ConnectionFailed:
    return ConnectionFailed(redact(f"cannot connect to Postgres at {settings.display_url}: "
                                   f"{describe_database_error(exc)}", settings.secrets()))
