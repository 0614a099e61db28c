"""Reading manifest files: positions, duplicate keys, YAML details, which files."""

import os
from pathlib import Path

import pytest

from reconciler.errors import UserError
from reconciler.manifest.load import manifest_files, parse_document, read_document


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


def test_a_control_character_in_the_text_has_a_position():
    _, problems = parse("streams:\n  - name: é\x1f\n")
    assert problems == ["m.yaml:2:12: (document): invalid YAML: character U+001F is not allowed (control characters "
                        "are not allowed)"]


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


def paths_of(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "good.yaml").write_text("{}\n")
    links = {"broken": "missing.yaml", "loop": "loop.yaml", "to-dir": "."}
    for name, target in links.items():
        (tmp_path / f"{name}.yaml").symlink_to(target)
    return {name: tmp_path / f"{name}.yaml" for name in links}


@pytest.mark.parametrize(("name", "cause"), [
    ("broken", "broken symbolic link (to missing.yaml, which does not exist)"),
    ("loop", "symbolic link loop (too many levels of symbolic links)"),
    ("to-dir", "is a directory, not a regular file"),
])
def test_a_bad_yaml_entry_of_a_directory_is_named_with_its_cause_not_skipped(tmp_path, name, cause):
    paths = paths_of(tmp_path)
    for other in set(paths) - {name}:
        paths[other].unlink()
    with pytest.raises(UserError) as raised:
        manifest_files([tmp_path])
    assert str(raised.value).startswith(f"{paths[name]}: {cause}")
    if name != "to-dir":  # named by -f itself, a directory is read
        with pytest.raises(UserError) as raised:
            manifest_files([paths[name]])
        assert str(raised.value).startswith(f"{paths[name]}: {cause}")


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"), ("/dev/zero", "a character device")])
def test_special_files_are_refused(path, kind):
    with pytest.raises(UserError, match=rf"^{path}: is {kind}, not a regular file"):
        manifest_files([Path(path)])


def test_a_pipe_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(UserError, match=r"fifo\.yaml: is a pipe, not a regular file"):
        manifest_files([tmp_path])


def test_a_broken_default_file_is_an_error_not_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "consumers.yaml").write_text("consumers: []\n")
    (tmp_path / "streams.yaml").symlink_to("gone.yaml")
    with pytest.raises(UserError, match=r"^streams\.yaml: broken symbolic link"):
        manifest_files([])


def test_file_names_are_printed_escaped(tmp_path):
    with pytest.raises(UserError) as raised:
        manifest_files([tmp_path / "a\x1b[2Jb.yaml"])
    assert "\x1b" not in str(raised.value) and "a\\x1b[2Jb.yaml: no such file" in str(raised.value)


def test_a_file_that_is_not_utf8_is_named_with_the_offset(tmp_path):
    (tmp_path / "m.yaml").write_bytes(b"streams: \xff\n")
    with pytest.raises(UserError, match=r"m\.yaml: not UTF-8 text \(byte 0xff at offset 9\)"):
        read_document(tmp_path / "m.yaml", [])


# The values are built by a direct walk of the node tree when the document is plain, else by PyYAML's
# constructor: both must give what PyYAML gives (timestamps aside), with the same problems reported.
SAME_AS_PYYAML = [
    "a: 012\nb: 0x1F\nc: 1_000\nd: -1\ne: +5\nf: 1:30\ng: 0b101\nh: 0\n",  # YAML 1.1 ints
    "a: .inf\nb: -.Inf\nc: 1e3\nd: 6.5\ne: 1_0.5\n",
    "a: yes\nb: Off\nc: ~\nd: null\ne: ''\nf: !!str 5\ng: !!int '7'\n",
    "x: &l [1, 2]\ny: *l\nz: {k: *l}\n",
    "base: &b {a: 1}\nuse: {<<: *b, c: 2}\n",  # merge key: PyYAML's constructor
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


def test_a_recursive_alias_is_refused_where_its_anchor_is():
    _, problems = parse("streams:\n  - name: A\n    metadata: &m {k: *m}\n")
    assert problems == ["m.yaml:3:15: streams[0].metadata: this value contains an alias of itself: "
                        "it has no end as JSON"]


def test_duplicate_keys_beside_a_merge_key_are_reported_once():
    _, problems = parse("base: &b {a: 1}\nuse: {<<: *b, c: 2, c: 3}\nother: {d: 1, d: 2}\n")
    assert problems == ["m.yaml:2:21: use.c: duplicate key 'c' (first written on line 2)",
                        "m.yaml:3:15: other.d: duplicate key 'd' (first written on line 3)"]


@pytest.mark.parametrize(("text", "expected"), [
    ("streams:\n  - name: A\n    metadata: {yes: c}\n", "m.yaml:3:16: streams[0].metadata: key yes must be a string"),
    ("streams:\n  - name: A\n    metadata: {1: c}\n", "m.yaml:3:16: streams[0].metadata: key 1 must be a string"),
    ("streams:\n  - name: A\n    metadata: {null: c}\n", "m.yaml:3:16: streams[0].metadata: key null must be"),
    ("1: x\n", "m.yaml:1:1: (document): key 1 must be a string (quote it)"),
    ("? [a]\n: x\n", "m.yaml:1:3: (document): key that is a list or mapping must be a string"),
    ("yes: 1\ntrue: 2\n", "m.yaml:1:1: (document): key yes must be a string"),
])
def test_keys_must_be_strings(text, expected):
    _, problems = parse(text)
    assert problems[0].startswith(expected), problems


@pytest.mark.parametrize(("text", "expected"), [
    ("streams:\n  - name: A\n    subjects: !!set {a, b}\n", "m.yaml:3:15: streams[0].subjects: !!set values are"),
    ("x-a: !!omap [a: 1]\n", "m.yaml:1:6: x-a: !!omap values are not accepted"),
    ("x-a: !!binary aGk=\n", "m.yaml:1:6: x-a: !!binary values are not accepted"),
    ("streams:\n  - !custom {name: A}\n", "m.yaml:2:5: streams[0]: !custom values are not accepted"),
])
def test_values_without_a_json_form_are_refused(text, expected):
    _, problems = parse(text)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_positions_after_a_plain_build():
    _, problems = parse("consumers:\n  - {durable_name: A, ack_wait: 1m, ack_wait: 2m}\n")
    assert problems == ["m.yaml:2:37: consumers[0].ack_wait: duplicate key 'ack_wait' (first written on line 2)"]


BOMB = "".join(f"x-{level}: &{level} [{', '.join([f'*{level - 1}'] * 9) if level else 'lol'}]\n" for level in range(9))


def test_an_alias_bomb_is_refused_before_anything_is_built():
    _, problems = parse(BOMB + "streams: [{name: A, subjects: *8}]\n")
    assert len(BOMB) < 600
    assert problems == ["m.yaml:5:6: x-4: aliases expand this value to more than 10000 nodes, over 100 times the 99 "
                        "the file writes (an alias bomb?)"]


def test_merge_keys_and_shared_anchors_of_a_large_manifest_pass():
    """5,000 streams x 4 consumers, each consumer taking its settings from one anchor."""
    consumers = "".join(f"  - {{<<: *pull, stream: S{i // 4}, durable_name: C{i % 4}, backoff: *backoff}}\n"
                        for i in range(20_000))
    text = ("x-backoff: &backoff [1s, 5s, 30s]\n"
            "x-pull: &pull {ack_policy: explicit, max_deliver: 5, ack_wait: 1s, max_ack_pending: 100}\n"
            "consumers:\n" + consumers)
    document, problems = parse(text)
    assert problems == [] and len(document.value["consumers"]) == 20_000


def test_nesting_is_bounded():
    deep = "x-a: " + "[" * 65 + "]" * 65 + "\n"
    _, problems = parse(deep)
    assert problems == [f"m.yaml:1:69: x-a{'[0]' * 63}: lists and mappings nested more than 64 levels deep"]
    _, problems = parse("x-a: " + "[" * 63 + "]" * 63 + "\n")
    assert problems == []
    aliased = "x-a: &a " + "[" * 40 + "]" * 40 + "\nx-b: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    _, problems = parse(aliased)
    assert problems == ["m.yaml:2:11: x-b[0][0][0][0][0]: lists and mappings nested more than 64 levels deep "
                        "(aliases expanded)"]


def test_an_integer_too_long_to_read_is_a_yaml_error_with_a_position():
    _, problems = parse("streams:\n  - name: A\n    max_msgs: " + "1" * 5_000 + "\n")
    assert problems == ["m.yaml:3:15: (document): invalid YAML: number with too many digits to read"]
