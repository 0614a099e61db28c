"""Writing exported manifests (reconciler/manifest/write.py), without a server: what is written reads back
as exactly what was exported, and merging keeps every other entry, hostile text included."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import UserError
from reconciler.manifest import load_desired
from reconciler.manifest.load import Problem, parse_document
from reconciler.manifest.write import SCHEMA_FILE, Source, check_mergeable, header, merge, render, write_new

SOURCE = Source("0.1.0", "2026-01-02T03:04:05Z", "nats://127.0.0.1:4222", "2.12.8", "n1", "APP", None, ("A",))
HEAD = header(SOURCE, schema=True)
# Text a user or a server may put in descriptions and metadata: YAML 1.1 words, numbers, dates, quotes,
# comment and flow characters, unicode (no surrogates: not UTF-8; no control characters but tab and newline).
TEXT = st.one_of(
    st.sampled_from(["on", "off", "yes", "No", "~", "null", "1_000", "0x1F", "1:20", "0o17", "1e3", ".inf",
                     "2024-01-01", "2024-01-01T00:00:00Z", "- a", "a: b", "#x", "&a", "*a", "!tag", "'", '"', "",
                     " lead", "trail ", "@x", "`x", "%x", "{a}", "[a]", "a\nb", "a\tb", "é ü 中"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff") | st.sampled_from("\n\t"),
            max_size=20))
NAMES = st.sampled_from(["A", "B", "C", "ORDERS", "on", "123"])


def read_back(text: str) -> object:
    problems: list[Problem] = []
    document = parse_document(text, "x.yaml", problems)
    assert problems == []
    return document.value


def stream(name: str, description: str, metadata: dict[str, str]) -> dict:
    item = {"name": name, "subjects": [f"{name}.>"], "description": description, "max_age": "1d"}
    return {**item, "metadata": metadata} if metadata else item


@given(description=TEXT, metadata=st.dictionaries(TEXT.filter(bool), TEXT, max_size=3))
@settings(max_examples=300, deadline=None)
def test_what_export_writes_reads_back_as_exported(description, metadata):
    item = stream("A", description, metadata)
    assert read_back(render({"streams": [item]}, HEAD)) == {"streams": [item]}


def test_the_header_is_comments_naming_the_source_and_the_schema_beside():
    lines = HEAD.splitlines()
    assert lines == ["# Exported by `jsctl export --stream A` (jsctl 0.1.0) at 2026-01-02T03:04:05Z",
                     "# from nats://127.0.0.1:4222 (nats-server 2.12.8, server n1), account APP, "
                     "JetStream domain (none)",
                     f"# yaml-language-server: $schema={SCHEMA_FILE}"]
    hostile = Source("0.1.0", "t", "nats://h:1", "2.12.8", "n1\n# forged", "A\x1b[2J", None)
    assert header(hostile, schema=False).count("\n") == 2 and "\x1b" not in header(hostile, schema=False)


STYLES = [dict(default_flow_style=False), dict(default_flow_style=False, indent=4),
          dict(default_flow_style=None), dict(default_flow_style=True)]


@given(existing=st.lists(st.tuples(NAMES, TEXT), max_size=4, unique_by=lambda t: t[0]), name=NAMES,
       description=TEXT, style=st.sampled_from(STYLES), comment=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_merging_keeps_every_other_stream_whatever_the_files_hold(existing, name, description, style, comment):
    """Files written by PyYAML in any style (or by hand: comments) take a merged stream: the others are
    declared exactly as before, or the merge is refused with a message; never an internal error."""
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory)
        streams = [stream(n, d, {}) for n, d in existing]
        text = yaml.safe_dump({"streams": streams}, sort_keys=False, allow_unicode=True, **style)
        (target / "streams.yaml").write_text(("# ours\n" if comment else "") + text)
        before = check_mergeable(target)
        exported = stream(name, description, {"k": description} if description else {})
        try:
            merge(target, before, [exported], [], HEAD)
        except UserError:
            return
        after = load_desired([target / "streams.yaml"])
        others = {n: r.config for n, r in before.streams.items() if n != name}
        assert {n: r.config for n, r in after.streams.items() if n != name} == others
        assert after.streams[name].config == {**exported, "max_age": 86400 * 10**9}
        if comment:
            assert (target / "streams.yaml").read_text().startswith("# ours\n")


def test_merging_an_unchanged_file_leaves_it_byte_for_byte(tmp_path):
    items = [stream("A", "a", {"team": "x"}), stream("B", "on", {})]
    write_new(tmp_path, items, [], HEAD)
    written = (tmp_path / "streams.yaml").read_text()
    done = merge(tmp_path, check_mergeable(tmp_path), [items[1]], [], HEAD)
    assert done.files == [] and (tmp_path / "streams.yaml").read_text() == written


def test_merging_a_new_stream_appends_it_and_leaves_the_rest_as_written(tmp_path):
    text = ("streams:\n"
            "- {name: A, subjects: [a], description: 'flow, quoted'}   # flow style\n"
            "- name: B\n"
            "  subjects:\n"
            "  - b\n")
    (tmp_path / "streams.yaml").write_text(text)
    merge(tmp_path, check_mergeable(tmp_path), [stream("C", "c", {})], [], HEAD)
    assert (tmp_path / "streams.yaml").read_text() == text + (
        "- name: C\n  subjects:\n  - C.>\n  description: c\n  max_age: 1d\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [SCHEMA_FILE, "streams.yaml"]  # no consumers.yaml to make


def test_a_merged_file_that_export_wrote_gets_the_new_header(tmp_path):
    write_new(tmp_path, [stream("A", "a", {})], [], header(Source("0.0.9", "then", "u", "2.10.26", "n", None, None),
                                                           schema=True))
    merge(tmp_path, check_mergeable(tmp_path), [stream("B", "b", {})], [], HEAD)
    text = (tmp_path / "streams.yaml").read_text()
    assert text.startswith(HEAD) and text.count("# Exported by") == 1 and "0.0.9" not in text


def test_merging_into_an_entry_built_from_an_anchor_keeps_what_the_others_declare(tmp_path):
    text = ("x-defaults: &d {max_age: 1d}\n"
            "streams:\n  - <<: *d\n    name: A\n    subjects: [a]\n  - <<: *d\n    name: B\n")
    (tmp_path / "streams.yaml").write_text(text)
    before = check_mergeable(tmp_path)
    merge(tmp_path, before, [stream("A", "new", {})], [], HEAD)
    after = load_desired([tmp_path / "streams.yaml"])
    assert after.streams["A"].config == {**stream("A", "new", {}), "max_age": 86400 * 10**9}
    assert {n: r.config for n, r in after.streams.items() if n != "A"} == \
        {n: r.config for n, r in before.streams.items() if n != "A"}


def test_merging_into_an_anchor_other_entries_use_is_refused(tmp_path):
    text = "streams:\n  - &base {name: A, subjects: [a]}\n  - <<: *base\n    name: B\n    subjects: [b]\n"
    (tmp_path / "streams.yaml").write_text(text)
    with pytest.raises(UserError, match="it would change stream B, which this export does not write"):
        merge(tmp_path, check_mergeable(tmp_path), [stream("A", "new", {})], [], HEAD)
    assert (tmp_path / "streams.yaml").read_text() == text and sorted(tmp_path.iterdir()) == [tmp_path / "streams.yaml"]


def test_a_directory_that_cannot_be_written_is_one_message(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match=f"cannot write {tmp_path}/file/sub: "):
        write_new(tmp_path / "file" / "sub", [stream("A", "a", {})], [], HEAD)
    assert sorted(tmp_path.iterdir()) == [tmp_path / "file"]
