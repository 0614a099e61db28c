"""Credentials in connection strings (reconciler/url_credentials.py): every form jsctl is given shows
``***`` in place of each credential, and every credential is known as a secret. Pure: no servers
(tests/test_connection.py checks the same on the wire)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict

from reconciler.db.settings import DatabaseSettings
from reconciler.errors import UserError
from reconciler.jetstream.settings import NatsSettings
from reconciler.url_credentials import CREDENTIAL_PARAMETERS, redact_url, url_secrets


@pytest.mark.parametrize(("text", "shown", "secrets"), [
    # Postgres: userinfo, credential parameters (their names percent-decoded, as libpq does), several hosts
    ("postgresql://postgres@db:5432/app?password=s3cret-pw", "postgresql://postgres@db:5432/app?password=***",
     ["s3cret-pw"]),
    ("postgres://app:p%40ss%2Fw0rd@h1:5432,h2:5433/app?sslmode=require&sslpassword=key-pw&passfile=/home/a/.pgpass",
     "postgres://app:***@h1:5432,h2:5433/app?sslmode=require&sslpassword=***&passfile=***",
     ["p%40ss%2Fw0rd", "p@ss/w0rd", "key-pw", "/home/a/.pgpass"]),
    ("postgresql://h/app?pass%77ord=by-libpq&PASSWORD=upper", "postgresql://h/app?pass%77ord=***&PASSWORD=***",
     ["by-libpq", "upper"]),
    ("postgresql+psycopg://u:a+b%20c@h/app", "postgresql+psycopg://u:***@h/app", ["a+b%20c", "a+b c"]),
    # a raw @, ? or : in a password: the widest of the readers' views
    ("postgresql://u:a@b@h/db", "postgresql://u:***@h/db", ["a@b"]),
    ("postgresql://u:a?b:c@h/db", "postgresql://u:***@h/db", ["a?b:c"]),
    ("postgresql://u:p@h:46087:notaport/db", "postgresql://u:***@h:46087:notaport/db", ["p"]),
    # libpq's keyword/value form: quoted values, backslash escapes, blanks around '='
    ("host=db password='it''s' dbname=app", "host=db password=*** dbname=app", ["'it''s'", "it"]),
    (r"host=db password = 'a b\' c' sslpassword=x\ y port=5432",
     "host=db password = *** sslpassword=*** port=5432", [r"'a b\' c'", "a b' c", r"x\ y", "x y"]),
    ("password='never closed", "password=***", ["'never closed", "never closed"]),
    # NATS: a list, schemes optional; a user name alone is a token
    ("nats://tok3n@h1:4222,nats://app:pw-1@h2:4222, app:pw-2@h3,h4",
     "nats://***@h1:4222,nats://app:***@h2:4222, app:***@h3,h4", ["tok3n", "pw-1", "pw-2"]),
    ("tls://app:%2Cpw@[::1]:4222", "tls://app:***@[::1]:4222", ["%2Cpw", ",pw"]),
    # nothing to hide
    ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222", []),
    ("postgresql://postgres@db/app?application_name=x", "postgresql://postgres@db/app?application_name=x", []),
    ("", "", []),
])
def test_every_form_shows_its_credentials_as_stars(text, shown, secrets):
    assert redact_url(text) == shown
    assert set(secrets) <= set(url_secrets(text))


def test_settings_show_and_keep_the_credentials_of_their_urls():
    nats = NatsSettings(url="nats://alice:s3cret@h1:4222,nats://t0ken@h2:4222", password="pw-flag", token="tk-flag")
    assert nats.display_servers == "nats://alice:***@h1:4222,nats://***@h2:4222"
    assert {"s3cret", "t0ken", "pw-flag", "tk-flag"} <= set(nats.secrets())
    assert "pw-flag" not in repr(nats) and "tk-flag" not in repr(nats)
    database = DatabaseSettings("postgresql://u:dbpass@db/x?sslpassword=keypass")
    assert database.display_url == "postgresql://u:***@db/x?sslpassword=***"
    assert {"dbpass", "keypass"} <= set(database.secrets())
    assert "dbpass" not in repr(database)


# ------------------------------------------------------------ properties

# Secrets hold a character no skeleton has (Ω), so finding one in the output can only be a leak.
SECRET_COUNT = 3
# (No NUL, which libpq cannot take, nor lone surrogates, which have no UTF-8 to percent-encode.)
SECRETS = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12).map(
    lambda s: f"Ω{s}")
NAMES = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
HOSTS = st.lists(st.tuples(NAMES, st.integers(1, 65535)), min_size=1, max_size=3)
# how a URL's query may spell a credential parameter: libpq percent-decodes names (upper case: for
# no reader, but shown as *** all the same)
PARAMETER_SPELLINGS = st.sampled_from(sorted(CREDENTIAL_PARAMETERS)).flatmap(
    lambda name: st.sampled_from([name, name.upper(), f"%{ord(name[0]):02X}{name[1:]}"]))


# Each form's strategy draws a skeleton and returns it as a function of the secrets to put in it, so that
# one skeleton can be filled with different secrets.
Render = Callable[[list[str]], str]


@st.composite
def postgres_urls(draw) -> Render:
    """A Postgres URL with secrets (percent-encoded) in the user information and in credential parameters."""
    scheme = draw(st.sampled_from(["postgresql", "postgres", "postgresql+psycopg"]))
    user, database = draw(NAMES), draw(NAMES)
    hosts = ",".join(f"{host}:{port}" for host, port in draw(HOSTS))
    names = draw(st.lists(PARAMETER_SPELLINGS, min_size=SECRET_COUNT - 1, max_size=SECRET_COUNT - 1))
    other_at = draw(st.integers(0, len(names)))

    def render(secrets: list[str]) -> str:
        params = [f"{name}={quote(secret, safe='')}" for name, secret in zip(names, secrets[1:], strict=True)]
        params.insert(other_at, "application_name=app")
        return f"{scheme}://{user}:{quote(secrets[0], safe='')}@{hosts}/{database}?{'&'.join(params)}"

    return render


def dsn_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def keyword_value_strings(draw) -> Render:
    """libpq's keyword/value form with a secret in each credential parameter."""
    names = draw(st.permutations(sorted(CREDENTIAL_PARAMETERS)))
    equals = draw(st.lists(st.sampled_from(["=", " = "]), min_size=SECRET_COUNT, max_size=SECRET_COUNT))
    other = f"host={draw(NAMES)} dbname={draw(NAMES)}"
    other_at = draw(st.integers(0, SECRET_COUNT))

    def render(secrets: list[str]) -> str:
        pairs = [f"{name}{eq}{dsn_quote(secret)}" for name, eq, secret in zip(names, equals, secrets, strict=True)]
        pairs.insert(other_at, other)
        return " ".join(pairs)

    return render


@st.composite
def nats_url_lists(draw) -> Render:
    """A comma-separated list of NATS URLs, each with a token or a user and password."""
    parts = [(draw(st.sampled_from(["nats://", "tls://", "ws://", ""])), draw(st.one_of(st.none(), NAMES)),
              draw(HOSTS)[0]) for _ in range(SECRET_COUNT)]

    def render(secrets: list[str]) -> str:
        return ",".join(f"{scheme}{user + ':' if user else ''}{quote(secret, safe='')}@{host}:{port}"
                        for (scheme, user, (host, port)), secret in zip(parts, secrets, strict=True))

    return render


FORMS = {"postgres": postgres_urls(), "keyword/value": keyword_value_strings(), "nats": nats_url_lists()}
SECRET_LISTS = st.lists(SECRETS, min_size=SECRET_COUNT, max_size=SECRET_COUNT)


@given(render=st.one_of(*FORMS.values()), secrets=SECRET_LISTS, others=SECRET_LISTS)
@settings(max_examples=500)
def test_the_shown_text_never_holds_a_credential(render, secrets, others):
    text = render(secrets)
    shown = redact_url(text)
    for secret in secrets:
        assert secret not in shown and quote(secret, safe="") not in shown
        assert secret in url_secrets(text)  # so that errors.scrub takes it out of any message
    # what is shown does not depend on the secrets at all
    assert redact_url(render(others)) == shown


@given(render=st.one_of(FORMS["postgres"], FORMS["keyword/value"]), secrets=SECRET_LISTS)
@settings(max_examples=300)
def test_libpq_finds_each_credential_where_jsctl_does(render, secrets):
    """The oracle: libpq's own parser (through psycopg) reads no credential that jsctl does not know."""
    text = render(secrets)
    try:
        read = conninfo_to_dict(text)
    except ProgrammingError:  # a spelling libpq does not take (PASSWORD)
        assume(False)
    for name in CREDENTIAL_PARAMETERS:
        if name in read:
            assert read[name] in url_secrets(text)


@given(st.text(st.characters(exclude_categories=())))  # lone surrogates too: os.environ makes them of bad bytes
@settings(max_examples=500)
def test_any_text_is_shown_or_refused_as_a_user_error(text):
    redact_url(text)
    url_secrets(text)
    database = DatabaseSettings(text or None)
    assert database.display_url
    if database.configured:
        with contextlib.suppress(UserError):
            database.libpq_url()
