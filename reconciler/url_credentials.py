"""Where credentials sit in a connection string, so that it can be shown with ``***`` in their place
(redact_url) and their values kept out of every message (url_secrets, for errors.keep_secret).

One parser for every form jsctl is given: a URL (``postgresql://user:password@h1:5432,h2/db?password=...``),
a comma-separated list of NATS URLs (``nats://user:password@h1,nats://token@h2``, scheme optional) and
libpq's keyword/value string (``host=h password='a b'``). The credentials are the password of the user
information (all of it in a NATS URL without a password: that is a token) and the values of the query or
keyword parameters in CREDENTIAL_PARAMETERS. Where the readers of these strings (libpq, asyncpg, nats-py)
disagree on where a password ends, the widest span is taken: none of them then sees a secret that the
display still shows. Nothing here raises, whatever the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote, unquote_plus

REDACTED = "***"
# libpq's parameters that hold a secret or name a file of them (compared case-insensitively, after
# percent-decoding: libpq decodes the names in a URL's query too)
CREDENTIAL_PARAMETERS = frozenset({"password", "sslpassword", "passfile"})

_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://")
_POSTGRES_SCHEME = re.compile(r"\s*postgres(?:ql)?(?:\+\w+)?://", re.IGNORECASE)
_KEYWORD_VALUE = re.compile(r"\s*\w+\s*=")  # libpq's other form starts with `keyword =`


def redact_url(text: str) -> str:
    """``text`` with every credential replaced by ``***``: the form in which a URL may be shown."""
    for start, end, _ in reversed(_credentials(text)):
        text = text[:start] + REDACTED + text[end:]
    return text


def url_secrets(text: str) -> list[str]:
    """Every credential in ``text``, as written and as its readers decode it."""
    return [value for *_, values in _credentials(text) for value in values]


_Credential = tuple[int, int, tuple[str, ...]]  # start, end, the values it stands for


def _credentials(text: str) -> list[_Credential]:
    """The credentials' spans in ``text``, in order, none overlapping."""
    if _SCHEME.match(text) is None and _KEYWORD_VALUE.match(text):
        return _keyword_value_credentials(text)
    if _POSTGRES_SCHEME.match(text):  # one URL; commas separate the hosts of its authority
        return _url_credentials(text, 0, len(text), token_userinfo=False)
    found: list[_Credential] = []
    start = 0
    for item in text.split(","):  # a list of NATS URLs, split as jsctl splits it to connect
        found += _url_credentials(text, start, start + len(item), token_userinfo=True)
        start += len(item) + 1
    return found


def _url_credentials(text: str, start: int, end: int, *, token_userinfo: bool) -> list[_Credential]:
    scheme = _SCHEME.match(text, start, end)
    authority = scheme.end() if scheme else start
    found: list[_Credential] = []
    at = _userinfo_end(text, authority, end)
    if at >= 0:
        colon = text.find(":", authority, at)
        if colon >= 0:
            found.append(_decoded(text, colon + 1, at, unquote))
        elif token_userinfo:
            found.append(_decoded(text, authority, at, unquote))
    query = text.find("?", max(at + 1, authority), end)
    if query >= 0:
        position = query + 1
        for parameter in text[query + 1:end].split("&"):
            name, equals, value = parameter.partition("=")
            if equals and _is_credential(unquote_plus(name)):
                value_start = position + len(name) + 1
                found.append(_decoded(text, value_start, value_start + len(value), unquote, unquote_plus))
            position += len(parameter) + 1
    return [credential for credential in found if credential[0] < credential[1]]


def _userinfo_end(text: str, authority: int, end: int) -> int:
    """Where the user information ends (its ``@``), -1 without one. URL parsers (nats-py, asyncpg) end
    the authority at the first ``/``, ``?`` or ``#`` and take the last ``@`` in it; libpq ends it only at
    a ``/`` and takes the first ``@``: the later of the two."""
    url_end = min([i for i in (text.find(c, authority, end) for c in "/?#") if i >= 0], default=end)
    slash = text.find("/", authority, end)
    return max(text.rfind("@", authority, url_end), text.find("@", authority, slash if slash >= 0 else end))


def _decoded(text: str, start: int, end: int, *decoders: Callable[[str], str]) -> _Credential:
    raw = text[start:end]
    return start, end, tuple(dict.fromkeys([raw, *(decode(raw) for decode in decoders)]))


def _is_credential(name: str) -> bool:
    return name.strip().lower() in CREDENTIAL_PARAMETERS


def _keyword_value_credentials(text: str) -> list[_Credential]:
    """libpq's ``keyword = value ...``: a value is quoted ('...') or runs to the next blank, and a
    backslash takes the next character as it is in both (libpq's conninfo_parse). What is glued to a
    closing quote (libpq refuses it) is taken as part of the value."""
    found: list[_Credential] = []
    i, size = 0, len(text)
    while i < size:
        equals = text.find("=", i)
        if equals < 0:
            break
        name = text[i:equals]
        i = equals + 1
        while i < size and text[i].isspace():
            i += 1
        start, quoted = i, i < size and text[i] == "'"
        i += quoted
        value: list[str] = []
        while i < size and not (text[i] == "'" if quoted else text[i].isspace()):
            if text[i] == "\\" and i + 1 < size:
                i += 1
            value.append(text[i])
            i += 1
        while i < size and not text[i].isspace():  # past a closing quote, libpq refuses what follows
            i += 1
        if _is_credential(name.split()[-1] if name.split() else "") and i > start:
            found.append((start, i, tuple(dict.fromkeys([text[start:i], "".join(value)]))))
        while i < size and text[i].isspace():
            i += 1
    return found
