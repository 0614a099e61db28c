"""Postgres connection settings and connection errors (no heavy imports: the CLI builds them before
anything connects; SQLAlchemy comes with connect.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import ConnectionFailed, UserError, redact, strip_userinfo


@dataclass(frozen=True)
class DatabaseSettings:
    url: str | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def display_url(self) -> str:
        return strip_userinfo(self.url) if self.url else "(none)"

    def secrets(self) -> list[str]:
        if not self.url:
            return []
        parts = urlsplit(self.url)
        return [s for s in (parts.password,) if s]

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
        """The URL as libpq, psycopg and asyncpg take it."""
        return f"postgresql://{self._scheme_and_rest()[1]}"


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
