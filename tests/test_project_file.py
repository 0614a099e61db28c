"""jsctl.yaml (manifest/project.py) and the owner flags: validated like the manifests, every problem at
its file:line:column; hostile files end in a project or a located problem, never an exception."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import REPO, run_jsctl

from reconciler.errors import ManifestError, UserError
from reconciler.manifest.load import parse_document
from reconciler.manifest.project import Project, load_project, owner_problem, project_of, project_schema

LINE = re.compile(r"^jsctl\.yaml:[1-9]\d*:[1-9]\d*: \S.*: .+$")
CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parsed(text: str, file: str = "jsctl.yaml") -> Project:
    problems = []
    return project_of(parse_document(text, file, problems), problems)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ManifestError) as error:
        parsed(text)
    return error.value.lines


def test_the_repos_own_file_names_its_project():
    assert load_project(REPO / "jsctl.yaml") == Project("user-txn", str(REPO / "jsctl.yaml"))


def test_no_file_no_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_project() == Project()
    (tmp_path / "jsctl.yaml").write_text("# nothing yet\n")
    assert load_project() == Project(None, "jsctl.yaml")
    (tmp_path / "jsctl.yaml").write_text("project: orders\n")
    assert load_project() == Project("orders", "jsctl.yaml")
    with pytest.raises(UserError, match=r"missing\.yaml: no such file or directory"):
        load_project(tmp_path / "missing.yaml")
    with pytest.raises(UserError, match="is a directory, not a regular file"):
        load_project(tmp_path)


@pytest.mark.parametrize(("text", "expected"), [
    ("projekt: orders\n", "jsctl.yaml:1:1: projekt: unknown field 'projekt' (did you mean 'project'?)"),
    ("project: 12\n", "jsctl.yaml:1:10: project: expected a string, got an integer (quote it to make it text)"),
    ("project: a b\n", "jsctl.yaml:1:10: project: invalid project id 'a b': 1 to 64 ASCII letters, digits, '.', '_' "
                       "or '-', starting and ending with a letter or digit"),
    ('project: "orders\\n"\n', "jsctl.yaml:1:10: project: invalid project id 'orders\\n': 1 to 64 ASCII letters, "
                               "digits, '.', '_' or '-', starting and ending with a letter or digit"),
    ("- project\n", "jsctl.yaml:1:1: (document): expected a mapping or nothing, got a list"),
    ("project: a\nproject: b\n", "jsctl.yaml:2:1: project: duplicate key 'project' (first written on line 1)"),
    ("a: &a [*a]\n", "jsctl.yaml:1:4: a: this value contains an alias of itself: it has no end as JSON"),
])
def test_problems_are_located(text, expected):
    assert problems_of(text) == [expected]


def test_project_ids():
    for good in ("a", "orders", "team-a.orders_v2", "A1", "x" * 64):
        assert owner_problem(good) is None
    for bad in ("", "-a", "a-", ".a", "a b", "a/b", "x" * 65, "é", "a\n", "a\x1b", "a:b", "${x}"):
        assert owner_problem(bad) is not None, bad


@CHECKS
@given(st.text(max_size=80))
def test_an_id_is_accepted_only_when_safe_as_metadata_shown_anywhere(owner):
    if owner_problem(owner) is None:
        assert 1 <= len(owner) <= 64 and owner.isascii() and owner.isprintable()
        assert re.fullmatch(r"[A-Za-z0-9._-]+", owner)
    else:
        assert owner_problem(owner).isprintable()


YAML_PIECES = st.sampled_from([
    "project:", "projects:", "environments:", "\n", "  ", "- ", "a", "orders", "-x", "x-", "&a ", "*a", "<<: ",
    "!!set ", "!!binary ", "? ", ": ", "[", "]", "{", "}", ", ", "'", '"', "1", "1.0", ".nan", "yes", "null", "~",
    "\\0", "\\x01", "\t", "#", "|", ">-", "\u200b", "\x85", "é",
])


def load_anything(text: str) -> None:
    try:
        project = parsed(text)
    except ManifestError as error:
        assert error.lines and all(LINE.match(line) and line.isprintable() for line in error.lines), error.lines
        return
    assert project.project is None or owner_problem(project.project) is None


@CHECKS
@given(st.one_of(st.lists(YAML_PIECES, max_size=30).map("".join), st.text(max_size=200)))
def test_hostile_text(text):
    load_anything(text)


def test_the_schema_ships_with_the_package_and_is_valid():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(project_schema())
    assert json.loads((REPO / "reconciler" / "schemas" / "project.schema.json").read_text()) == project_schema()


def test_bad_owners_from_flags_and_the_environment_are_one_line_errors(tmp_path):
    """Refused before connecting anywhere (no server is running at the address)."""
    url = ["--server", "nats://127.0.0.1:1"]
    flag = run_jsctl("plan", "--owner", "a b", *url, cwd=tmp_path)
    assert flag.returncode == 1 and flag.stderr.splitlines() == [
        "jsctl: error: --owner: invalid project id 'a b': 1 to 64 ASCII letters, digits, '.', '_' or '-', starting "
        "and ending with a letter or digit"]
    env = run_jsctl("apply", *url, env={"JSCTL_OWNER": "a\x1bb"}, cwd=tmp_path)
    assert env.returncode == 1 and env.stderr.startswith("jsctl: error: JSCTL_OWNER: invalid project id 'a\\x1bb'")
    taken = run_jsctl("plan", "--owner", "a", "--from-owner", "/", *url, cwd=tmp_path)
    assert taken.returncode == 1 and taken.stderr.startswith("jsctl: error: --from-owner: invalid project id '/'")
    (tmp_path / "jsctl.yaml").write_text("projekt: a\n")
    broken = run_jsctl("up", "--owner", "a", *url, cwd=tmp_path)
    assert broken.returncode == 1 and "jsctl.yaml:1:1: projekt: unknown field 'projekt'" in broken.stderr
