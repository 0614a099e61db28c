"""Reading manifest files: positions, duplicate keys, YAML details, which files."""

from pathlib import Path

import pytest

from reconciler.errors import UserError
from reconciler.manifest.load import manifest_files, parse_document


def parse(text: str):
    problems = []
    return parse_document(text, "m.yaml", problems), [str(p) for p in problems]


def test_positions_of_values_and_keys_are_one_based():
    document, problems = parse("streams:\n  - name: A\n    max_age: 1h\n")
    assert problems == []
    assert document.value == {"streams": [{"name": "A", "max_age": "1h"}]}
    assert document.mark(("streams", 0, "max_age")) == (3, 14)
    assert document.mark(("streams", 0, "max_age"), key=True) == (3, 5)
    assert document.mark(("streams", 0)) == (2, 5)
    assert document.mark(("streams", 0, "missing", "deeper")) == (2, 5)  # nearest written parent


def test_duplicate_keys_are_reported_not_silently_overwritten():
    _, problems = parse("streams:\n  - name: A\n    storage: file\n    storage: memory\n")
    assert problems == ["m.yaml:4:5: streams[0].storage: duplicate key 'storage' (first written on line 3)"]


def test_keys_repeated_through_an_alias_are_reported_once():
    _, problems = parse("x-a: &a {k: 1, k: 2}\nx-b: *a\nx-c: *a\n")
    assert problems == ["m.yaml:1:16: x-a.k: duplicate key 'k' (first written on line 1)"]


def test_duplicate_top_level_section():
    _, problems = parse("streams: []\nstreams: []\n")
    assert problems == ["m.yaml:2:1: streams: duplicate key 'streams' (first written on line 1)"]


def test_syntax_error_has_a_position():
    _, problems = parse("streams:\n  - name: [A\n")
    assert len(problems) == 1 and problems[0].startswith("m.yaml:3:1: (document): invalid YAML:")


def test_timestamps_stay_strings_and_yaml_types_are_kept():
    document, _ = parse("a: 2025-01-31T12:00:00Z\nb: 5\nc: true\nd: ~\ne: 1.5\nf: '7'\n")
    assert document.value == {"a": "2025-01-31T12:00:00Z", "b": 5, "c": True, "d": None, "e": 1.5, "f": "7"}


def test_anchors_and_merge_keys():
    text = ("x-defaults: &d {ack_policy: explicit, max_ack_pending: 100}\n"
            "consumers:\n  - <<: *d\n    durable_name: A\n    max_ack_pending: 5\n")
    document, problems = parse(text)
    assert problems == []
    assert document.value["consumers"][0] == {"ack_policy": "explicit", "max_ack_pending": 5, "durable_name": "A"}
    assert document.mark(("consumers", 0, "max_ack_pending")) == (5, 22)  # the explicit value, not the anchor's
    assert document.mark(("consumers", 0, "ack_policy")) == (1, 29)  # merged: where the anchor wrote it


def test_empty_file_is_nothing():
    document, problems = parse("# nothing yet\n")
    assert document.value is None and problems == []


def test_default_files_are_those_present(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="no manifests"):
        manifest_files([])
    (tmp_path / "consumers.yaml").write_text("consumers: []\n")
    assert manifest_files([]) == [Path("consumers.yaml")]


def test_directories_give_their_yaml_files_sorted_once(tmp_path):
    for name in ("b.yml", "a.yaml", "notes.txt"):
        (tmp_path / name).write_text("{}\n")
    files = manifest_files([tmp_path, tmp_path / "a.yaml"])
    assert [f.name for f in files] == ["a.yaml", "b.yml"]


def test_missing_path_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        manifest_files([tmp_path / "nope.yaml"])


# The values are built by a direct walk of the node tree when the document is plain, else by PyYAML's
# constructor: both must give what PyYAML gives (timestamps aside), with the same problems reported.
SAME_AS_PYYAML = [
    "a: 012\nb: 0x1F\nc: 1_000\nd: -1\ne: +5\nf: 1:30\ng: 0b101\nh: 0\n",  # YAML 1.1 ints
    "a: .inf\nb: -.Inf\nc: 1e3\nd: 6.5\ne: 1_0.5\n",
    "a: yes\nb: Off\nc: ~\nd: null\ne: ''\nf: !!str 5\ng: !!int '7'\nh: !!binary aGk=\n",
    "x: &l [1, 2]\ny: *l\nz: {k: *l}\n",
    "base: &b {a: 1}\nuse: {<<: *b, c: 2}\n",  # merge key: PyYAML's constructor
    "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\n",
    "1: int key\n'1': str key\n~: none key\n",
    "- top\n- level\n- [list]\n",
    "just text\n",
]


@pytest.mark.parametrize("text", SAME_AS_PYYAML)
def test_values_are_those_pyyaml_builds(text):
    import yaml

    document, problems = parse(text)
    assert problems == []
    assert document.value == yaml.load(text, Loader=yaml.CSafeLoader)


def test_aliased_values_are_shared_as_pyyaml_shares_them():
    document, _ = parse("x: &l [1, 2]\ny: *l\n")
    assert document.value["x"] is document.value["y"]


def test_recursive_anchor_is_built_by_pyyaml():
    document, problems = parse("a: &a [1, *a]\n")
    assert problems == [] and document.value["a"][1] is document.value["a"]


def test_duplicate_keys_beside_a_merge_key_are_reported_once():
    _, problems = parse("base: &b {a: 1}\nuse: {<<: *b, c: 2, c: 3}\nother: {d: 1, d: 2}\n")
    assert problems == ["m.yaml:2:21: use.c: duplicate key 'c' (first written on line 2)",
                        "m.yaml:3:15: other.d: duplicate key 'd' (first written on line 3)"]


def test_keys_equal_only_once_built_are_not_duplicates():
    document, problems = parse("yes: 1\ntrue: 2\n")  # both True for PyYAML, written differently
    assert problems == [] and document.value == {True: 2}


def test_unknown_tag_is_a_yaml_error_with_a_position():
    _, problems = parse("streams:\n  - !custom {name: A}\n")
    assert len(problems) == 1 and problems[0].startswith("m.yaml:2:5: (document): invalid YAML:")


def test_positions_after_a_plain_build():
    _, problems = parse("consumers:\n  - {durable_name: A, ack_wait: 1m, ack_wait: 2m}\n")
    assert problems == ["m.yaml:2:37: consumers[0].ack_wait: duplicate key 'ack_wait' (first written on line 2)"]
