"""jsctl.yaml's ``environments:`` (manifest/project.py) and the precedence of connection settings
(jetstream/settings.py), without servers: parsing, located problems, literal secrets refused, ``${env:NAME}``
read when an environment is chosen; hostile files end in a project or located problems."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_project_file import parsed, problems_of

from reconciler.errors import ManifestError, UserError
from reconciler.jetstream.settings import NatsSettings, resolve_nats_settings
from reconciler.manifest.project import Environment, literal_secret, load_project

LINE = re.compile(r"^(\S*/)?jsctl\.yaml:[1-9]\d*:[1-9]\d*: \S.*: .+$")
CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED = "SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU"
FILE = """\
project: shop
environments:
  dev:
    server: nats://127.0.0.1:4222
    nkey: hack/dev.seed
    database_url: ${env:DEV_DATABASE_URL}
    variables: {replicas: 1, retention: 1d, tiered: true}
  prod:
    context: prod
    user: app
    password: ${env:PROD_NATS_PASSWORD}
    migrations: db/migrations
    variables:
      replicas: 3
    files: [streams.yaml, prod/]
"""


def test_environments_in_the_files_order_with_their_settings_variables_and_files():
    project = parsed(FILE, "proj/jsctl.yaml")
    assert project.environments == ("dev", "prod")
    assert project.environment("dev", {"DEV_DATABASE_URL": "postgresql://u:p@h/d"}) == Environment(
        "dev", {"server": "nats://127.0.0.1:4222", "nkey": "proj/hack/dev.seed", "database_url": "postgresql://u:p@h/d"},
        {"replicas": 1, "retention": "1d", "tiered": True}, ())
    prod = project.environment("prod", {"PROD_NATS_PASSWORD": "pw"})
    assert prod.settings == {"context": "prod", "user": "app", "password": "pw", "migrations": "proj/db/migrations"}
    assert prod.files == ("proj/streams.yaml", "proj/prod")  # relative to the project file
    assert prod.variables == {"replicas": 3}


def test_env_references_are_read_only_for_the_chosen_environment_and_named_when_unset():
    project = parsed(FILE)
    assert project.environment("prod", {"PROD_NATS_PASSWORD": "pw"}).name == "prod"  # DEV_DATABASE_URL unset
    with pytest.raises(ManifestError) as error:
        project.environment("prod", {})
    assert error.value.lines == ["jsctl.yaml:11:15: environments.prod.password: environment variable "
                                 "PROD_NATS_PASSWORD is not set (referenced as ${env:PROD_NATS_PASSWORD})"]


def test_a_domain_read_from_the_environment_is_checked_where_it_is_referenced():
    project = parsed("environments:\n  e:\n    js_domain: ${env:DOMAIN}\n")
    assert project.environment("e", {"DOMAIN": "leaf"}).settings == {"js_domain": "leaf"}
    with pytest.raises(ManifestError) as error:
        project.environment("e", {"DOMAIN": "a.b"})
    assert error.value.lines == ["jsctl.yaml:3:16: environments.e.js_domain: invalid JetStream domain 'a.b': must "
                                 "not contain '.', '*' or '>'"]


def test_an_unknown_environment_is_one_error_naming_them():
    with pytest.raises(UserError, match=r"^no environment 'stage' in jsctl\.yaml: dev, prod$"):
        parsed(FILE).environment("stage")
    with pytest.raises(UserError, match="it declares none"):
        parsed("project: a\n").environment("dev")


def test_no_project_file_and_env_names_the_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"no environment 'dev' \(no jsctl\.yaml here; --project FILE names one\)"):
        load_project().environment("dev")


@pytest.mark.parametrize(("setting", "expected"), [
    ("password: hunter2", "3:15: environments.e.password: a literal password in the project file: write it as "
                          "${env:NAME} and set NAME where jsctl runs"),
    ('token: "${env:T}-suffix"', "3:12: environments.e.token: a literal token in the project file"),
    ("server: nats://u:pw@h:4222", "3:13: environments.e.server: a password or token written in server"),
    ("server: nats://a,nats://tok3n@h2", "3:13: environments.e.server: a password or token written in server"),
    ("database_url: postgresql://u:pw@h/d", "3:19: environments.e.database_url: a password or token written in "
                                            "database_url"),
    ("database_url: postgresql://u:${env:P}@h/d?sslpassword=x", "3:19: environments.e.database_url: a password"),
    ("database_url: host=h password=x", "3:19: environments.e.database_url: a password"),
    (f"nkey: {SEED}", "3:11: environments.e.nkey: an nkey seed written in the project file"),
    ('creds: "-----BEGIN NATS USER JWT-----"', "3:12: environments.e.creds: credentials written in the project file"),
    ("servr: x", "3:5: environments.e.servr: unknown field 'servr' (did you mean 'server'?)"),
    ("variables: {1x: 2}", "3:16: environments.e.variables: invalid variable name '1x'"),
    ("files: []", "3:12: environments.e.files: "),
    ("server: 4222", "3:13: environments.e.server: expected a string, got an integer"),
    ("js_domain: a b", "3:16: environments.e.js_domain: invalid JetStream domain 'a b'"),
])
def test_problems_of_an_environment_are_located(setting, expected):
    (line,) = problems_of(f"environments:\n  e:\n    {setting}\n")
    assert line.startswith(f"jsctl.yaml:{expected}"), line
    assert "hunter2" not in line and "pw@" not in line and SEED not in line


def test_bad_environment_names():
    assert problems_of("environments:\n  a b: {}\n")[0].startswith(
        "jsctl.yaml:2:3: environments: invalid environment name 'a b': 1 to 64 ASCII letters")


@pytest.mark.parametrize("value", ["${env:NATS_PASSWORD}", "${env:A}${env:B}"])
def test_secrets_by_reference_pass(value):
    assert literal_secret("password", value) is None
    assert literal_secret("server", f"nats://app:{value}@h:4222,nats://{value}@h2") is None
    assert literal_secret("database_url", f"postgresql://app:{value}@h/d") is None
    assert literal_secret("server", value) is None
    assert literal_secret("nkey", "hack/seed.txt") is None


@CHECKS
@given(st.sampled_from(["password", "token", "server", "database_url", "nkey", "creds", "user"]), st.text(max_size=60))
def test_literal_secret_never_raises_and_a_whole_reference_always_passes(key, text):
    problem = literal_secret(key, text)
    assert problem is None or problem.isprintable()
    assert literal_secret(key, "${env:X}") is None


PIECES = st.sampled_from([
    "environments:", "\n", "  ", "    ", "dev:", "prod:", "server:", "password:", "token:", "database_url:", "nkey:",
    "variables:", "files:", "migrations:", " ", "- ", "${env:X}", "${env:}", "${x}", "$${", "${env:A", "nats://u:p@h",
    "postgresql://u:${env:P}@h/d", SEED, "[", "]", "{", "}", ", ", "'", '"', "1", "null", "~", "&a ", "*a", "é", "\t",
])


@CHECKS
@given(st.lists(PIECES, max_size=40).map("".join), st.dictionaries(st.sampled_from(["X", "A", "P"]),
                                                                   st.text(max_size=10)))
def test_hostile_environments_give_an_environment_or_located_problems(text, environ):
    try:
        project = parsed(text)
        for name in project.environments:
            environment = project.environment(name, environ)
            assert all(isinstance(value, str) for value in environment.settings.values())
    except ManifestError as error:
        assert error.lines and all(LINE.match(line) and line.isprintable() for line in error.lines), error.lines


# ------------------------------------------------------------ precedence (jetstream/settings.py)


def write_context(name: str, **fields: object) -> None:
    home = Path(os.environ["XDG_CONFIG_HOME"]) / "nats" / "context"
    home.mkdir(parents=True, exist_ok=True)
    (home / f"{name}.json").write_text(json.dumps(fields))


def test_flag_then_environment_then_variables_then_context():
    write_context("c", url="nats://context:1", user="cu", password="cp", ca="/context-ca")
    variables = {"url": "nats://variable:1", "nkey": "/dev.seed", "context": "c", "tls_cert": "/variable-cert"}
    environment = {"url": "nats://environment:1", "user": "app", "password": "pw"}
    settings = resolve_nats_settings(NatsSettings(tls_ca="/flag-ca"), environment=environment, variables=variables)
    assert (settings.url, settings.user, settings.password) == ("nats://environment:1", "app", "pw")
    assert settings.nkey is None  # the environment's credentials hide dev's NATS_NKEY: one way to log in
    assert (settings.tls_ca, settings.tls_cert) == ("/flag-ca", "/variable-cert")
    flag = resolve_nats_settings(NatsSettings(url="nats://flag:1"), environment=environment, variables=variables)
    assert flag.url == "nats://flag:1"


def test_an_environments_context_ranks_with_it_above_the_variables():
    write_context("prod", url="nats://prod:1", token="prod-token")
    settings = resolve_nats_settings(NatsSettings(), environment={"context": "prod"},
                                     variables={"url": "nats://dev:1", "nkey": "/dev.seed"})
    assert (settings.url, settings.token, settings.nkey) == ("nats://prod:1", "prod-token", None)
    # NATS_CONTEXT (a variable) still ranks last, under NATS_URL, as without environments
    write_context("dev", url="nats://dev-context:1")
    settings = resolve_nats_settings(NatsSettings(), environment={}, variables={"url": "nats://dev:1",
                                                                                "context": "dev"})
    assert settings.url == "nats://dev:1"


def test_without_an_environment_flags_and_variables_are_one_layer_as_before():
    settings = resolve_nats_settings(NatsSettings(user="flag-user"), variables={"password": "from-variable"})
    assert (settings.user, settings.password) == ("flag-user", "from-variable")
