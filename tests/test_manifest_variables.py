"""Variables in manifests (manifest/variables.py): ``${name}`` typed when it is a whole plain scalar, text
otherwise; ``${env:NAME}``; ``$${``; every bad reference a located problem; ``--var`` parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError, UserError
from reconciler.manifest import load_desired
from reconciler.manifest.load import parse_document
from reconciler.manifest.validate import validate_documents
from reconciler.manifest.variables import parse_var, substitute_value
from reconciler.reconcile.plan import load_manifests

VARIABLES = {"replicas": 3, "retention": "1d", "env_name": "dev", "flag": True, "nothing": None, "ratio": 0.5,
             "subjects": ["a.>", "b.>"], "labels": {"team": "payments"}}


def stream_config(text: str, variables=VARIABLES, tmp_path: Path | None = None) -> dict:
    path = write(tmp_path, text)
    return load_desired([path], variables).streams.popitem()[1].config


def write(directory: Path | None, text: str) -> Path:
    path = (directory or Path.cwd()) / "streams.yaml"
    path.write_text(text)
    return path


def errors(tmp_path: Path, text: str, variables=VARIABLES) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        load_desired([write(tmp_path, text)], variables)
    return raised.value.lines


def test_a_whole_plain_reference_takes_the_variables_type(tmp_path):
    config = stream_config("streams:\n  - name: S\n    num_replicas: ${replicas}\n    max_age: ${retention}\n"
                           "    subjects: ${subjects}\n    metadata: ${labels}\n    allow_rollup_hdrs: ${flag}\n",
                           tmp_path=tmp_path)
    assert config["num_replicas"] == 3
    assert config["max_age"] == 86_400 * 10**9  # the unit converted after substitution
    assert config["subjects"] == ["a.>", "b.>"]
    assert config["metadata"] == {"team": "payments"}
    assert config["allow_rollup_hdrs"] is True


def test_inside_text_or_quoted_a_variable_is_text(tmp_path):
    config = stream_config('streams:\n  - name: S_${env_name}\n    subjects: ["orders.${env_name}.>"]\n'
                           '    metadata: {replicas: "${replicas}", all: "${flag} ${nothing} ${ratio}"}\n',
                           tmp_path=tmp_path)
    assert config["name"] == "S_dev"
    assert config["subjects"] == ["orders.dev.>"]
    assert config["metadata"] == {"replicas": "3", "all": "true null 0.5"}


def test_double_dollar_is_a_literal_reference_and_a_lone_dollar_is_text(tmp_path):
    config = stream_config("streams:\n  - name: S\n    description: $${replicas} $$${env_name} $x $ ${env_name}$\n",
                           tmp_path=tmp_path)
    assert config["description"] == "${replicas} $${env_name} $x $ dev$"


def test_environment_variables_are_text(tmp_path, monkeypatch):
    monkeypatch.setenv("JSCTL_TEST_REPLICAS", "3")
    config = stream_config("streams:\n  - name: S\n    description: ${env:JSCTL_TEST_REPLICAS}\n"
                           "    metadata: {n: 'x${env:JSCTL_TEST_REPLICAS}'}\n", tmp_path=tmp_path)
    assert config["description"] == "3" and config["metadata"] == {"n": "x3"}


def test_substituted_values_are_checked_at_the_reference(tmp_path):
    lines = errors(tmp_path, "streams:\n  - name: S\n    num_replicas: ${retention}\n    max_age: ${replicas}x\n")
    assert lines == [
        f"{tmp_path}/streams.yaml:3:19: streams[0].num_replicas: expected an integer, got a string",
        f"{tmp_path}/streams.yaml:4:14: streams[0].max_age: invalid duration '3x': use integer nanoseconds or a number "
        "with a unit (ns, us, ms, s, m, h, d, w, M=30d, y=365d), e.g. 30s, 1h30m, 1y",
    ]


def test_undefined_variables_are_all_located_with_the_other_problems(tmp_path, monkeypatch):
    monkeypatch.delenv("JSCTL_TEST_UNSET", raising=False)
    lines = errors(tmp_path, "streams:\n  - name: S\n    num_replicas: ${replica}\n"
                             "    description: a ${missing} b ${env:JSCTL_TEST_UNSET}\n    retention: nope\n")
    file = f"{tmp_path}/streams.yaml"
    assert lines == [
        f"{file}:3:19: streams[0].num_replicas: undefined variable 'replica' (did you mean 'replicas'?) "
        "(pass --var replica=VALUE)",  # alone: not also "expected an integer, got a string"
        f"{file}:4:20: streams[0].description: undefined variable 'missing' (pass --var missing=VALUE)",
        f"{file}:4:33: streams[0].description: environment variable JSCTL_TEST_UNSET is not set "
        "(referenced as ${env:JSCTL_TEST_UNSET})",
        f"{file}:5:16: streams[0].retention: 'nope' is not one of 'limits', 'interest', 'workqueue'",
    ]


def test_without_variables_a_reference_is_undefined(tmp_path):
    lines = errors(tmp_path, "streams:\n  - name: S\n    num_replicas: ${replicas}\n", variables=None)
    assert lines == [f"{tmp_path}/streams.yaml:3:19: streams[0].num_replicas: undefined variable 'replicas' (no "
                     "variables are defined: set them in jsctl.yaml or pass --var replicas=VALUE)"]
    assert load_manifests([str(write(tmp_path, "streams:\n  - name: S\n"))]).streams  # none used: as before


@pytest.mark.parametrize(("value", "column", "message"), [
    ("${", 18, "'${': '${' without its closing '}' (write '$${' for a literal '${')"),
    ("x ${}", 20, "'${}' is no variable reference"),
    ("${a b}", 18, "'${a b}' is no variable reference"),
    ("${1a}", 18, "'${1a}' is no variable reference"),
    ("${a${b}}", 18, "'${a${b}' is no variable reference"),
    ("${env:}", 18, "'${env:}': expected ${env:NAME}"),
    ("${env:A-B}", 18, "'${env:A-B}': expected ${env:NAME}"),
    ("${labels} x", 18, "variable 'labels' holds a mapping: it can only stand alone as a whole value"),
    ("'${subjects}'", 18, "variable 'subjects' holds a list"),
])
def test_malformed_references_are_located(tmp_path, value, column, message):
    lines = errors(tmp_path, f"streams:\n  - name: S\n    description: {value}\n")
    assert len(lines) == 1 and lines[0].startswith(f"{tmp_path}/streams.yaml:3:{column}: streams[0].description: ")
    assert message in lines[0]


def test_an_unquoted_reference_in_flow_style_gets_a_hint(tmp_path):
    lines = errors(tmp_path, "streams:\n  - {name: S, num_replicas: ${replicas}}\n")
    assert lines == [f"{tmp_path}/streams.yaml:2:30: (document): invalid YAML: did not find expected ',' or '}}' "
                     "(inside [...] or {...} a ${...} must be quoted, which makes it text: write the value on its own "
                     "line, `key: ${name}`, for the variable's type)"]


def test_keys_are_not_substituted(tmp_path):
    lines = errors(tmp_path, "streams:\n  - name: S\n    metadata:\n      ${env_name}: x\n")
    assert lines == [f"{tmp_path}/streams.yaml:4:7: streams[0].metadata.${{env_name}}: key '${{env_name}}' holds "
                     "'${': variables are not substituted in keys"]


def test_an_aliased_reference_is_substituted_and_reported_once(tmp_path):
    text = "x-d: &d\n  num_replicas: ${nope}\nstreams:\n  - {name: A, <<: *d}\n  - {name: B, <<: *d}\n"
    assert errors(tmp_path, text) == [f"{tmp_path}/streams.yaml:2:17: x-d.num_replicas: undefined variable 'nope' "
                                      "(pass --var nope=VALUE)"]


def test_variables_are_substituted_where_anchors_are_shared(tmp_path):
    text = "x-d: &d\n  num_replicas: ${replicas}\nstreams:\n  - {name: A, <<: *d}\n  - name: B\n    <<: *d\n"
    desired = load_desired([write(tmp_path, text)], VARIABLES)
    assert [stream.config["num_replicas"] for stream in desired.streams.values()] == [3, 3]


def test_a_substituted_list_too_deep_is_refused_at_the_reference(tmp_path):
    deep: list = []
    for _ in range(70):
        deep = [deep]
    lines = errors(tmp_path, "streams:\n  - name: S\n    subjects: ${deep}\n", {"deep": deep})
    assert len(lines) == 1 and lines[0].startswith(f"{tmp_path}/streams.yaml:3:15: ")
    assert "nested more than 64 levels" in lines[0]


def test_a_variable_used_too_often_is_refused_at_each_use_over_the_budget(tmp_path):
    # 200 uses of a mapping of 2,001 nodes in a file writing 1,003: the budget, 10,030, lets 5 through
    text = "streams:\n" + "".join(f"  - name: S{index}\n    metadata: ${{many}}\n" for index in range(200))
    lines = errors(tmp_path, text, {"many": {f"k{index}": "v" for index in range(1000)}})
    assert lines[0] == (f"{tmp_path}/streams.yaml:13:15: streams[5].metadata: list and mapping variables expand "
                        "this file to more than 10030 nodes, over 10 times the nodes it writes")
    assert len(lines) == 195 and all("expand this file" in line for line in lines)


def test_files_without_references_are_read_as_before(tmp_path):
    text = "streams:\n  - name: S\n    description: 'costs $5 {each}'\n"
    assert stream_config(text, tmp_path=tmp_path)["description"] == "costs $5 {each}"


def test_plain_values_for_a_project_file(monkeypatch):
    monkeypatch.setenv("JSCTL_TEST_PASSWORD", "s3cret")
    monkeypatch.delenv("JSCTL_TEST_UNSET", raising=False)
    value, problems = substitute_value({"password": "${env:JSCTL_TEST_PASSWORD}", "n": "${replicas}",
                                        "list": ["$${x}", "${env:JSCTL_TEST_UNSET}"]}, {"replicas": 1},
                                       ("environments", "prod"))
    assert value == {"password": "s3cret", "n": 1, "list": ["${x}", "${env:JSCTL_TEST_UNSET}"]}
    assert problems == [(("environments", "prod", "list", 1),
                         "environment variable JSCTL_TEST_UNSET is not set (referenced as ${env:JSCTL_TEST_UNSET})")]


@pytest.mark.parametrize(("text", "expected"), [
    ("replicas=3", ("replicas", 3)), ("r=-1", ("r", -1)), ("ratio=0.5", ("ratio", 0.5)), ("on=true", ("on", True)),
    ("e=", ("e", None)), ("s=1d", ("s", "1d")), ("s='3'", ("s", "3")), ('s="a b"', ("s", "a b")),
    ("u=a=b", ("u", "a=b")), ("t=2025-01-31T00:00:00Z", ("t", "2025-01-31T00:00:00Z")), ("_x9=[1]", ("_x9", "[1]")),
    ("m=<<", ("m", "<<")),
])
def test_var_values_are_yaml_scalars(text, expected):
    assert parse_var(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("novalue", "--var 'novalue': expected NAME=VALUE (e.g. --var replicas=3)"),
    ("=3", "--var '=3': invalid variable name ''"),
    ("1a=3", "--var '1a=3': invalid variable name '1a'"),
    ("a-b=3", "invalid variable name 'a-b'"),
    ("s='3", "--var s: a value starting with a quote must be one quoted YAML string"),
    ("n=" + "1" * 5000, "--var n: number with too many digits to read"),
])
def test_bad_var_is_a_clear_user_error(text, message):
    with pytest.raises(UserError, match=re.escape(message)):
        parse_var(text)


HOSTILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = st.sampled_from(["$", "{", "}", "${", "$${", "env:", "replicas", "labels", "subjects", "nope", " ", "a b",
                          "\n", "'", '"', ":", "-", "[", "]", ",", "#", "\\", "\0", "\x85", "é", "\u200b"])
LOCATED = re.compile(r"^m\.yaml:[1-9]\d*:[1-9]\d*: \S.*: .+$")


def located_or_loaded(text: str) -> None:
    problems = []
    validate_documents([parse_document(text, "m.yaml", problems, VARIABLES)], problems)
    assert all(LOCATED.match(str(problem)) and str(problem).isprintable() for problem in problems)


@HOSTILE
@given(st.lists(PIECES, max_size=30).map("".join))
def test_hostile_references_in_a_value(text):
    located_or_loaded("streams:\n  - name: S\n    description: " + text + "\n")
    located_or_loaded("streams:\n  - name: S\n    description: " + repr(text) + "\n")


@HOSTILE
@given(st.lists(PIECES | st.sampled_from(["streams:", "  - ", "name: ", "metadata: ", "\n    "]), max_size=40)
       .map("".join))
def test_hostile_manifests_with_references(text):
    located_or_loaded(text)


@HOSTILE
@given(st.text(max_size=60) | st.lists(PIECES | st.sampled_from(["=", "a", "1", ".", "e3", "0x", "~"]), max_size=12)
       .map("".join))
def test_hostile_var_options(text):
    try:
        name, _ = parse_var(text)
    except UserError as exc:
        assert str(exc).startswith("--var ") and str(exc).isprintable()
    else:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)


@HOSTILE
@given(st.recursive(st.lists(PIECES, max_size=12).map("".join) | st.integers() | st.none(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=8))
def test_hostile_plain_values(value):
    result, problems = substitute_value(value, VARIABLES, ("environments", "e"))
    assert all(path[:2] == ("environments", "e") and message for path, message in problems)
    if not problems and isinstance(value, str) and "${" not in value:
        assert result == value
