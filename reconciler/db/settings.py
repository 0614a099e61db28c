"""Postgres connection settings and connection errors (no heavy imports: the CLI builds them before
anything connects; SQLAlchemy comes with connect.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConnectionFailed, UserError, redact
from ..url_credentials import redact_url, url_secrets


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
