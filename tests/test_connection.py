"""Connections: every authentication method against a real nats-server, TLS, natscli contexts,
precedence (flag > environment > context), Postgres, and secrets never shown.
"""

from __future__ import annotations

import io
import json
import os
import socket
from pathlib import Path
from urllib.parse import quote

import nkeys
import psycopg
import pytest
from expect import one_line_error, secrets_absent
from natsjwt import Operator, new_keypair
from support import HACK
from tlsgen import CertificateAuthority

from reconciler.db.settings import DatabaseSettings
from reconciler.errors import UserError, keep_secret, redact, scrub
from reconciler.jetstream.connect import describe_connect_error
from reconciler.jetstream.credentials import read_user_seed
from reconciler.jetstream.settings import NatsSettings, resolve_nats_settings
from reconciler.url_credentials import redact_url
from reconciler.worker.report import Reporter, Stats

# ------------------------------------------------------------------ helpers


def new_seed_file(path: Path) -> Path:
    """A valid user seed the servers do not know."""
    path.write_text(new_keypair("user").seed.decode() + "\n")
    return path


def write_context(name: str, select: bool = False, **fields: object) -> Path:
    """A natscli context file under $XDG_CONFIG_HOME/nats/context/ (isolated per test by conftest)."""
    home = Path(os.environ["XDG_CONFIG_HOME"]) / "nats"
    (home / "context").mkdir(parents=True, exist_ok=True)
    path = home / "context" / f"{name}.json"
    path.write_text(json.dumps({"description": "", "url": "", "token": "", "user": "", "password": "",
                                "creds": "", "nkey": "", "cert": "", "key": "", "ca": "", **fields}))
    if select:
        (home / "context.txt").write_text(name)
    return path


_CLOSED_PORTS: list[socket.socket] = []  # kept bound until the session ends


def closed_port() -> int:
    """A loopback port nobody listens on (bound, never listening, so nothing else takes it meanwhile)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _CLOSED_PORTS.append(s)
    return s.getsockname()[1]


def seed_of(path: Path) -> str:
    return read_user_seed(str(path))


# --------------------------------------------------------------- unit tests


def test_context_fills_only_unset_fields_field_by_field():
    write_context("dev", url="nats://ctx:1", user="ctx-user", password="ctx-pass", ca="~/ca.pem")
    settings = resolve_nats_settings(NatsSettings(url="nats://flag:2", context="dev"))
    assert settings.url == "nats://flag:2"
    assert (settings.user, settings.password) == ("ctx-user", "ctx-pass")
    assert settings.tls_ca == str(Path("~/ca.pem").expanduser())


def test_credentials_from_flags_replace_all_of_the_contexts():
    write_context("dev", url="nats://ctx:1", creds="/ctx.creds", user="u", password="p", cert="/c", key="/k")
    settings = resolve_nats_settings(NatsSettings(nkey="/flag.seed", tls_cert="/flag-cert", context="dev"))
    assert (settings.nkey, settings.creds, settings.user, settings.password) == ("/flag.seed", None, None, None)
    assert (settings.tls_cert, settings.tls_key) == ("/flag-cert", None)
    assert settings.url == "nats://ctx:1"


def test_two_ways_to_authenticate_is_a_user_error(jsctl):
    done = jsctl("ping", "--token", "t", "--nkey", str(HACK / "seed.txt"))
    one_line_error(done, "choose one way to authenticate", "--nkey and --token")
    secrets_absent(done, seed_of(HACK / "seed.txt"))


def test_selected_context_applies_without_a_name():
    write_context("other", url="nats://other:1")
    write_context("chosen", select=True, url="nats://chosen:1", token="t")
    settings = resolve_nats_settings(NatsSettings())
    assert (settings.url, settings.token) == ("nats://chosen:1", "t")
    assert resolve_nats_settings(NatsSettings(context="other")).url == "nats://other:1"


def test_no_context_leaves_settings_as_given():
    given = NatsSettings(url="nats://a:1", token="x")
    assert resolve_nats_settings(given) == given


def test_xdg_config_home_or_home_dot_config(tmp_path):
    write_path = tmp_path / "h" / ".config" / "nats" / "context"
    write_path.mkdir(parents=True)
    (write_path / "c.json").write_text(json.dumps({"url": "nats://home:1"}))
    env = {"HOME": str(tmp_path / "h")}
    assert resolve_nats_settings(NatsSettings(context="c"), env).url == "nats://home:1"


@pytest.mark.parametrize(("content", "message"), [(None, "not found"), ("{not json", "not valid JSON"),
                                                  ("[1]", "must be a JSON object")])
def test_bad_named_context_is_a_user_error(content, message):
    if content is not None:
        write_context("bad").write_text(content)
    with pytest.raises(UserError, match=message):
        resolve_nats_settings(NatsSettings(context="bad"))


@pytest.mark.parametrize(("content", "message"), [(None, "No such file"), ("# only a comment\n", "no seed found"),
                                                  ("SUAAAAAAAAAAAAAAAA\n", "malformed")])
def test_bad_seed_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "seed.txt"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message) as raised:
        read_user_seed(str(path))
    assert "SUAAAA" not in str(raised.value)


def test_seed_is_read_past_comment_lines():
    assert read_user_seed(str(HACK / "seed.txt")).startswith("SU")


# ----------------------------------------------------------- nkeys (hack/)


def test_nkey_seed_connects_and_is_never_printed(jsctl, nats_server_nkeys):
    done = jsctl("ping", "-s", nats_server_nkeys.url, "--nkey", str(HACK / "seed.txt"))
    assert done.returncode == 0, done.stderr
    assert "JetStream enabled" in done.stdout and nats_server_nkeys.url in done.stdout
    secrets_absent(done, seed_of(HACK / "seed.txt"))


def test_nkey_from_environment(jsctl, nats_server_nkeys):
    done = jsctl("ping", env={"NATS_URL": nats_server_nkeys.url, "NATS_NKEY": str(HACK / "seed.txt")})
    assert done.returncode == 0, done.stderr


def test_wrong_seed_is_refused_in_one_line(jsctl, nats_server_nkeys, tmp_path):
    wrong = new_seed_file(tmp_path / "wrong.txt")
    done = jsctl("ping", "-s", nats_server_nkeys.url, "--nkey", str(wrong))
    one_line_error(done, nats_server_nkeys.url, "authorization refused")
    secrets_absent(done, seed_of(wrong))


def test_no_credentials_are_refused(jsctl, nats_server_nkeys):
    one_line_error(jsctl("ping", "-s", nats_server_nkeys.url), nats_server_nkeys.url, "authorization refused")


@pytest.mark.parametrize(("content", "message"), [
    (None, "No such file"),
    ("SUAOBTWGRHMV6HRB2FXSE3HBRF7444DYT7WJTBT7PI3RMEG6FRCVZFWLXX\n", "malformed"),
    ("not a seed\n", "no seed found"),
    (nkeys.encode_seed(b"a" * 32, nkeys.PREFIX_BYTE_ACCOUNT).decode(), "needs a user seed"),
])
def test_missing_or_malformed_seed_file(jsctl, nats_server_nkeys, tmp_path, content, message):
    path = tmp_path / "seed.txt"
    if content is not None:
        path.write_text(content)
    done = jsctl("ping", "-s", nats_server_nkeys.url, "--nkey", str(path))
    one_line_error(done, str(path), message)
    if content:
        secrets_absent(done, content.strip())


# ------------------------------------------------------- creds (JWT mode)


def test_creds_file_connects_and_a_foreign_one_is_refused(jsctl, nats_server_factory, tmp_path):
    operator = Operator.create()
    server = nats_server_factory(operator.server_config())
    creds = operator.write_creds(tmp_path / "app.creds")
    done = jsctl("ping", "-s", server.url, "--creds", str(creds))
    assert done.returncode == 0, done.stderr
    assert "JetStream enabled" in done.stdout
    secrets_absent(done, operator.user.seed.decode(), operator.user_jwt)

    foreign = Operator.create()  # signed by an operator the server does not trust
    done = jsctl("ping", "-s", server.url, "--creds", str(foreign.write_creds(tmp_path / "foreign.creds")))
    one_line_error(done, server.url, "authorization refused")
    secrets_absent(done, foreign.user.seed.decode(), foreign.user_jwt)

    one_line_error(jsctl("ping", "-s", server.url, env={"NATS_CREDS": str(tmp_path / "missing.creds")}),
                   "missing.creds", "No such file")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda text, op: "garbage\n", "no user JWT found"),
    (lambda text, op: text.replace(op.user.seed.decode(), op.user.seed.decode()[:-3] + "AAA"), "seed is malformed"),
    (lambda text, op: text.replace(op.user.seed.decode(), op.account.seed.decode()), "seed is malformed"),
    (lambda text, op: text.split("************************* IMPORTANT")[0], "no user nkey seed found"),
])
def test_damaged_creds_file_is_one_line(jsctl, tmp_path, damage, message):
    operator = Operator.create()
    creds = operator.write_creds(tmp_path / "app.creds")
    creds.write_text(damage(creds.read_text(), operator))
    done = jsctl("ping", "-s", f"nats://127.0.0.1:{closed_port()}", "--creds", str(creds))
    one_line_error(done, str(creds), message)
    secrets_absent(done, operator.user.seed.decode(), operator.account.seed.decode())


# ---------------------------------------------------- user/password, token


def test_user_and_password(jsctl, nats_server_factory):
    password = "pw-" + os.urandom(8).hex()
    server = nats_server_factory(f'authorization {{ users: [ {{ user: app, password: "{password}" }} ] }}')
    host = server.url.removeprefix("nats://")

    ok = [jsctl("ping", "-s", server.url, "--user", "app", "--password", password),
          jsctl("ping", env={"NATS_URL": server.url, "NATS_USER": "app", "NATS_PASSWORD": password}),
          jsctl("ping", "-s", f"nats://app:{password}@{host}")]
    for done in ok:
        assert done.returncode == 0, done.stderr
        assert host in done.stdout
        secrets_absent(done, password)

    wrong = "wrong-" + os.urandom(8).hex()
    for done in (jsctl("ping", "-s", server.url, "--user", "app", "--password", wrong),
                 jsctl("ping", "-s", f"nats://app:{wrong}@{host}")):
        one_line_error(done, host, "authorization refused")
        secrets_absent(done, wrong, password)
    # not even in a --debug traceback
    for done in (jsctl("--debug", "ping", "-s", server.url, "--user", "app", "--password", wrong),
                 jsctl("--debug", "ping", "-s", f"nats://app:{wrong}@{host}")):
        assert done.returncode == 1 and "Traceback" in done.stderr
        secrets_absent(done, wrong, password)


def test_token(jsctl, nats_server_factory):
    token = "tok-" + os.urandom(8).hex()
    server = nats_server_factory(f'authorization {{ token: "{token}" }}')
    done = jsctl("ping", "-s", server.url, "--token", token)
    assert done.returncode == 0, done.stderr
    secrets_absent(done, token)
    done = jsctl("ping", env={"NATS_URL": server.url, "NATS_TOKEN": token})
    assert done.returncode == 0, done.stderr
    wrong = "wrong-" + os.urandom(8).hex()
    done = jsctl("ping", "-s", server.url, "--token", wrong)
    one_line_error(done, server.url, "authorization refused")
    secrets_absent(done, wrong, token)


# -------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    ca = CertificateAuthority(tmp_path_factory.mktemp("tls"))
    return ca, ca.issue("server", server=True), ca.issue("client", server=False)


def test_tls_with_the_ca_and_without(jsctl, nats_server_factory, certificates):
    ca, server_cert, _ = certificates
    server = nats_server_factory(f'tls {{ cert_file: "{server_cert.cert}", key_file: "{server_cert.key}" }}')
    done = jsctl("ping", "-s", server.url, "--tls-ca", str(ca.files.cert))
    assert done.returncode == 0, done.stderr
    one_line_error(jsctl("ping", "-s", server.url), server.url, "TLS handshake failed")
    one_line_error(jsctl("ping", "-s", server.url, "--tls-ca", str(ca.files.cert) + ".missing"),
                   "TLS files", "No such file")


def test_tls_client_certificate(jsctl, nats_server_factory, certificates):
    ca, server_cert, client_cert = certificates
    server = nats_server_factory(f'tls {{ cert_file: "{server_cert.cert}", key_file: "{server_cert.key}", '
                                 f'ca_file: "{ca.files.cert}", verify: true }}')
    done = jsctl("ping", "-s", server.url, "--tls-ca", str(ca.files.cert),
                 "--tls-cert", str(client_cert.cert), "--tls-key", str(client_cert.key))
    assert done.returncode == 0, done.stderr
    done = jsctl("ping", env={"NATS_URL": server.url, "NATS_CA": str(ca.files.cert),
                              "NATS_CERT": str(client_cert.cert), "NATS_KEY": str(client_cert.key)})
    assert done.returncode == 0, done.stderr
    one_line_error(jsctl("ping", "-s", server.url, "--tls-ca", str(ca.files.cert)), server.url, "client certificate")
    one_line_error(jsctl("ping", "-s", server.url, "--tls-ca", str(ca.files.cert), "--tls-cert",
                         str(client_cert.cert)), "--tls-cert and --tls-key must be given together")


@pytest.mark.parametrize("closed", [ConnectionResetError(104, "Connection reset by peer"),
                                    BrokenPipeError(32, "Broken pipe")])
def test_a_close_during_tls_suggests_a_client_certificate(closed):
    # Which of these a client without a certificate sees depends on timing (the broken pipe: the
    # server's close raced the client's CONNECT): each must say the same.
    assert "client certificate" in describe_connect_error(closed, tls=True)


# ------------------------------------------------- contexts and precedence


def test_context_by_flag_env_and_selection(jsctl, nats_server_nkeys):
    write_context("app", url=nats_server_nkeys.url, nkey=str(HACK / "seed.txt"))
    assert jsctl("ping", "--context", "app").returncode == 0
    assert jsctl("ping", env={"NATS_CONTEXT": "app"}).returncode == 0
    write_context("app", select=True, url=nats_server_nkeys.url, nkey=str(HACK / "seed.txt"))
    done = jsctl("ping")
    assert done.returncode == 0, done.stderr
    one_line_error(jsctl("ping", "--context", "nope"), "nats context 'nope' not found")


def test_precedence_flag_over_env_over_context(jsctl, nats_server_factory):
    token = "tok-" + os.urandom(8).hex()
    server = nats_server_factory(f'authorization {{ token: "{token}" }}')
    dead = f"nats://127.0.0.1:{closed_port()}"
    write_context("c", url=dead, token="context-token")
    # the context alone: its URL is dead
    one_line_error(jsctl("ping", "--context", "c"), dead, "connection refused")
    # environment beats the context (URL), the context still gives the (wrong) token
    done = jsctl("ping", "--context", "c", env={"NATS_URL": server.url})
    one_line_error(done, server.url, "authorization refused")
    secrets_absent(done, "context-token", token)
    # environment beats the context for the token too
    assert jsctl("ping", "--context", "c", env={"NATS_URL": server.url, "NATS_TOKEN": token}).returncode == 0
    # a flag beats the environment
    done = jsctl("ping", "--context", "c", "--token", "flag-token", env={"NATS_URL": server.url,
                                                                         "NATS_TOKEN": token})
    one_line_error(done, "authorization refused")
    assert jsctl("ping", "--context", "c", "-s", server.url, "--token", token,
                 env={"NATS_URL": dead, "NATS_TOKEN": "env-token"}).returncode == 0


def test_unreachable_nats_is_one_line_and_a_cluster_list_fails_over(jsctl, nats_server):
    url = f"nats://127.0.0.1:{closed_port()}"
    one_line_error(jsctl("ping", "-s", url), url, "connection refused")
    for servers in (f"{url},{nats_server.url}", f"{nats_server.url},{url}"):
        done = jsctl("ping", "-s", servers)
        assert done.returncode == 0, done.stderr



# ---------------------------------------------------------------- Postgres


def test_database_url_flag_and_env(jsctl, nats_server, postgres, database_url):
    done = jsctl("ping", "-s", nats_server.url, "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    assert "PostgreSQL" in done.stdout and redact_url(database_url) in done.stdout
    secrets_absent(done, postgres.password)
    done = jsctl("ping", env={"NATS_URL": nats_server.url, "DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    secrets_absent(done, postgres.password)


def test_database_wrong_password_and_unreachable(jsctl, nats_server, postgres, database_url):
    wrong = database_url.replace(postgres.password, "wrong-" + os.urandom(6).hex())
    done = jsctl("ping", "-s", nats_server.url, env={"DATABASE_URL": wrong})
    one_line_error(done, redact_url(wrong), "authentication failed")
    secrets_absent(done, DatabaseSettings(wrong).secrets()[0], postgres.password)

    unreachable = f"postgresql://postgres:{postgres.password}@127.0.0.1:{closed_port()}/x"
    done = jsctl("ping", "-s", nats_server.url, "--database-url", unreachable)
    one_line_error(done, redact_url(unreachable), "connection refused")
    secrets_absent(done, postgres.password)

    done = jsctl("--debug", "ping", "-s", nats_server.url, env={"DATABASE_URL": wrong})
    assert done.returncode == 1 and "Traceback" in done.stderr
    secrets_absent(done, DatabaseSettings(wrong).secrets()[0])

    done = jsctl("ping", "-s", nats_server.url, "--database-url", "mysql://u:hunter2@h/x")
    one_line_error(done, "postgresql://")
    secrets_absent(done, "hunter2")


def test_registered_secrets_are_scrubbed_from_any_message():
    keep_secret("s3cr3t-value", None, "", "t")
    assert scrub("failed: s3cr3t-value in a library message") == "failed: *** in a library message"
    assert scrub("timed out") == "timed out"  # "t" is too short to be searched for
    assert redact("t: s3cr3t-value", ["t", "s3cr3t-value"]) == "t: ***"  # the same rule


def test_worker_log_lines_are_scrubbed():
    keep_secret("pw-in-a-driver-message")
    out = io.StringIO()
    for log_format in ("text", "json"):
        Reporter(Stats(), log_format=log_format, stream=out).log(
            "warning", "database unavailable", error="password pw-in-a-driver-message refused")
    assert "pw-in-a-driver-message" not in out.getvalue() and out.getvalue().count("***") == 2


# ------------------------------------------------------- credentials in URLs (docs/connections.md, "Secrets")


def test_a_password_in_the_query_string_is_never_shown(jsctl, js_account, postgres, database_url, tmp_path):
    name = database_url.rsplit("/", 1)[1]
    key_password, passfile = f"key-{os.urandom(6).hex()}", str(tmp_path / f"passfile-{os.urandom(6).hex()}")

    def url(password: str, database: str = name) -> str:
        return (f"postgresql://postgres@127.0.0.1:{postgres.port}/{database}?password={quote(password)}"
                f"&sslpassword={key_password}&passfile={quote(passfile)}")

    secrets = (postgres.password, key_password, passfile)
    env = {"NATS_URL": js_account, "DATABASE_URL": url(postgres.password),
           "JSCTL_DEV_DATABASE_URL": url(postgres.password, "postgres")}
    shown = redact_url(url(postgres.password))
    assert shown.count("=***") == 3
    done = jsctl("ping", env=env)
    assert done.returncode == 0 and f"Postgres {shown}: PostgreSQL" in done.stdout, done.stderr
    secrets_absent(done, *secrets)
    done = jsctl("plan", env=env)
    assert done.returncode == 0 and f"Database {shown}: at revision (none)" in done.stdout, done.stderr
    secrets_absent(done, *secrets)
    for output in ("markdown", "prometheus"):
        done = jsctl("plan", "-o", output, env=env)
        assert done.returncode == 0, done.stderr
        secrets_absent(done, *secrets)
    done = jsctl("plan", "-o", "json", "--out", str(tmp_path / "plan.json"), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["context"]["database"] == shown
    secrets_absent(done, *secrets)
    saved = (tmp_path / "plan.json").read_text()
    assert shown in saved.replace("\\", "") and not any(secret in saved for secret in secrets)

    wrong = "wrong-" + os.urandom(6).hex()
    for debug in ([], ["--debug"]):
        for command in ("ping", "plan"):
            done = jsctl(*debug, command, env={**env, "DATABASE_URL": url(wrong)})
            if debug:
                assert done.returncode == 1 and "Traceback" in done.stderr
            else:
                one_line_error(done, redact_url(url(wrong)), "authentication failed")
            secrets_absent(done, wrong, *secrets)


def test_several_hosts_and_a_percent_encoded_password(jsctl, nats_server, postgres, database_url):
    role, password = f"r_{os.urandom(4).hex()}", f"p@ss:w/rd?&=%#,{os.urandom(4).hex()}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    name, dead = database_url.rsplit("/", 1)[1], closed_port()

    def url(password: str) -> str:
        return f"postgresql://{role}:{quote(password, safe='')}@127.0.0.1:{dead},127.0.0.1:{postgres.port}/{name}"

    shown = f"postgresql://{role}:***@127.0.0.1:{dead},127.0.0.1:{postgres.port}/{name}"
    env = {"NATS_URL": nats_server.url, "JSCTL_DEV_DATABASE_URL": postgres.url()}
    done = jsctl("ping", "--database-url", url(password), env=env)
    assert done.returncode == 0 and f"Postgres {shown}: PostgreSQL" in done.stdout, done.stderr
    secrets_absent(done, password, quote(password, safe=""))
    done = jsctl("plan", "-o", "json", "--database-url", url(password), env=env)  # through SQLAlchemy
    assert done.returncode == 0 and json.loads(done.stdout)["context"]["database"] == shown, done.stderr

    wrong = f"wr:ng@{os.urandom(4).hex()}"
    for debug in ([], ["--debug"]):
        done = jsctl(*debug, "ping", "--database-url", url(wrong), env=env)
        assert "authentication failed" in done.stderr and shown in done.stderr and done.returncode == 1
        secrets_absent(done, wrong, quote(wrong, safe=""), password)


@pytest.mark.parametrize("url", ["postgresql://u:s3cret-pw@127.0.0.1:46087:notaport/db",
                                 "postgresql://u:s3cret-pw@127.0.0.1:1,127.0.0.1:99999/db",
                                 "postgresql://u@127.0.0.1/db?password=s3cret-pw&port=x",
                                 "postgresql://u@127.0.0.1/db?password=s3cret-pw&no_such_parameter=1",
                                 "postgresql://u:s3cret-pw@127.0.0.1/d%zzb",
                                 "postgresql://u:s3cret-pw\udcff@127.0.0.1/db"])  # a byte that is not UTF-8
def test_a_malformed_database_url_is_a_user_error(jsctl, nats_server, url):
    for command in ("ping", "plan"):
        done = jsctl(command, "-s", nats_server.url, env={"DATABASE_URL": url})
        one_line_error(done, f"database URL {redact_url(url)}: ")
        secrets_absent(done, "s3cret-pw", "\\udcff")


@pytest.mark.parametrize(("flag", "what"), [("--nkey", "nkey seed file"), ("--creds", "creds file")])
def test_a_binary_seed_or_creds_file_is_a_user_error(jsctl, tmp_path, flag, what):
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfe" + nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER) + os.urandom(64))
    done = jsctl("ping", "-s", f"nats://127.0.0.1:{closed_port()}", flag, str(path))
    one_line_error(done, f"{what} {path}: not a text file")


def test_credentials_in_a_list_of_nats_urls(jsctl, nats_server_factory):
    password, token = "pw-" + os.urandom(8).hex(), "tok-" + os.urandom(8).hex()
    users = nats_server_factory(f'authorization {{ users: [ {{ user: app, password: "{password}" }} ] }}')
    tokens = nats_server_factory(f'authorization {{ token: "{token}" }}')
    dead = f"127.0.0.1:{closed_port()}"
    users_host, tokens_host = users.url.removeprefix("nats://"), tokens.url.removeprefix("nats://")
    wrong = "wrong-" + os.urandom(8).hex()

    done = jsctl("ping", "-s", f"nats://app:{wrong}@{dead}, nats://app:{password}@{users_host}")
    assert done.returncode == 0, done.stderr
    assert f"NATS nats://app:***@{dead},nats://app:***@{users_host}:" in done.stdout
    secrets_absent(done, wrong, password)
    done = jsctl("ping", "-s", f"{token}@{tokens_host}")  # a user name alone is a token (no scheme: nats://)
    assert done.returncode == 0 and f"NATS ***@{tokens_host}:" in done.stdout, done.stderr
    secrets_absent(done, token)
    for debug in ([], ["--debug"]):
        done = jsctl(*debug, "ping", "-s", f"nats://{wrong}@{dead},nats://{wrong}@{tokens_host}")
        assert "authorization refused" in done.stderr and f"nats://***@{dead},nats://***@{tokens_host}" in done.stderr
        secrets_absent(done, wrong, token)
