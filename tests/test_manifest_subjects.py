"""Subject rules and the subject index: the index answers exactly what comparing every pair would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifest.subjects import (
    MAX_NAME_BYTES,
    SubjectIndex,
    covers,
    name_problem,
    overlaps,
    subject_problem,
)


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("a", "a", True), ("a", "b", False), ("a.*", "a.b", True), ("a.>", "a", False), ("a.>", "a.b.c", True),
    (">", "x", True), ("*", "a.b", False), ("*.b", "a.*", True), ("a.*.c", "a.b.d", False), ("a.*", "a.>", True),
])
def test_overlaps(a, b, expected):
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected


@pytest.mark.parametrize(("pattern", "subject", "expected"), [
    ("a.>", "a.b.*", True), ("a.>", "a", False), ("a.*", "a.>", False), ("*.b", "a.b", True), ("a.b", "a.*", False),
])
def test_covers(pattern, subject, expected):
    assert covers(pattern, subject) is expected


def test_index_gives_the_earliest_overlapping_subject_and_its_value():
    index: SubjectIndex[str] = SubjectIndex()
    for subject, value in [("a.b", "first"), ("x.>", "second"), ("a.*", "third"), ("a.b", "again")]:
        index.add(subject, value)
    assert index.first_overlap("a.b") == ("a.b", "first")
    assert index.first_overlap("a.c") == ("a.*", "third")
    assert index.first_overlap("*.c") == ("x.>", "second")
    assert index.first_overlap("x.y.z") == ("x.>", "second")
    assert index.first_overlap(">") == ("a.b", "first")
    assert index.first_overlap("b") is None
    assert index.first_overlap("x") is None  # x.> needs one more token


def test_index_handles_subjects_of_thousands_of_tokens():
    index: SubjectIndex[int] = SubjectIndex()
    long = ".".join(["t"] * 5_000)
    index.add(long, 1)
    assert index.first_overlap(".".join(["*"] * 5_000)) == (long, 1)


TOKENS = st.sampled_from(["a", "b", "c", "*"])


@st.composite
def subjects(draw) -> str:
    tokens = draw(st.lists(TOKENS, min_size=1, max_size=4))
    if draw(st.booleans()):
        tokens[-1] = ">"
    return ".".join(tokens)


@given(held=st.lists(subjects(), max_size=12), asked=subjects())
def test_index_agrees_with_comparing_every_pair(held, asked):
    index: SubjectIndex[int] = SubjectIndex()
    for order, subject in enumerate(held):
        index.add(subject, order)
    expected = next(((subject, order) for order, subject in enumerate(held) if overlaps(asked, subject)), None)
    assert index.first_overlap(asked) == expected


@pytest.mark.parametrize("subject", ["a\x00b", "a.\x01", "\b", "a\u00a0b", "a\u200bb", "a\u2028b", "a\x7f", "a b"])
def test_subjects_with_control_invisible_or_space_characters_are_refused(subject):
    assert subject_problem(subject)


@pytest.mark.parametrize("name", ["nul\0x", "\x01", "\b", "a\x85b", "a\u00a0b", "\ufeffa", "\u202e", "a\vb", "a.b",
                                  "a*", "a>", "a/b", "a\\b", "", "é" * 128])
def test_names_the_server_refuses_or_that_hide_characters_are_refused(name):
    assert name_problem(name)


@pytest.mark.parametrize("name", ["ORDERS", "a-b_c$d~e:f", "é" * 127, "x" * MAX_NAME_BYTES, "日本"])
def test_names_that_are_fine(name):
    assert name_problem(name) is None


@given(st.text(max_size=40))
def test_any_text_gets_an_answer(text):
    for check in (subject_problem, name_problem):
        problem = check(text)
        assert problem is None or isinstance(problem, str)
