"""A bucket's changes in every output format: its address, its backing stream's fields named with the
bucket field a manifest writes for them, in units, and what a replace destroys in keys/objects (pure)."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.plan.render.json import json_schema_text, render_json
from reconciler.plan.render.markdown import render_markdown
from reconciler.plan.render.prometheus import render_prometheus
from reconciler.plan.render.text import render_text

S = 1_000_000_000
DIFF = [FieldChange("max_age", 3600 * S, 60 * S), FieldChange("max_msgs_per_subject", 5, 10),
        FieldChange("discard", "new", "old")]
UPDATE = Change("kv/CONFIG", "update", DIFF, desired={"name": "KV_CONFIG"})
REPLACE = Change("objectstore/ARTIFACTS", "replace", [FieldChange("storage", "file", "memory")], destructive=True,
                 reason="the storage type cannot be changed", details={"destroys": {"objects": 3, "bytes": 4096}},
                 desired={"name": "OBJ_ARTIFACTS"})
PLAN = Plan([UPDATE, REPLACE], context={"nats": {"server_version": "2.12.8", "server_name": "n1", "api_level": 3}})


def test_text_names_the_bucket_field_beside_the_stream_field_in_units():
    text = render_text(PLAN)
    assert "kv/CONFIG  update" in text
    assert "max_age (ttl): \"1h\" -> \"1m\"" in text and "max_msgs_per_subject (history): 5 -> 10" in text
    assert "discard: \"new\" -> \"old\"" in text  # fixed by the bucket kind: no bucket field
    assert "objectstore/ARTIFACTS  replace" in text and "destroys: objects=3, bytes=4096" in text


def test_markdown_names_the_bucket_fields_too():
    markdown = render_markdown(PLAN)
    assert "max_age (ttl) \"1h\" → \"1m\"" in markdown and "+ max_msgs_per_subject (history): 10" in markdown


def test_json_keeps_the_backing_stream_paths_and_prometheus_counts_by_bucket_kind():
    data = json.loads(render_json(PLAN))
    assert not list(Draft202012Validator(json.loads(json_schema_text())).iter_errors(data))
    changes = data["changes"]
    assert [d["path"] for d in changes[0]["diff"]] == ["max_age", "max_msgs_per_subject", "discard"]
    assert changes[1]["details"]["destroys"] == {"objects": 3, "bytes": 4096}
    metrics = render_prometheus(PLAN, 0.0)
    assert 'kind="kv"' in metrics and 'kind="objectstore"' in metrics


def test_a_bucket_to_create_shows_its_settings_as_its_manifest_writes_them():
    from reconciler.jetstream.buckets import stream_config
    from reconciler.manifest.model import KV

    config = stream_config(KV, {"bucket": "CONFIG", "history": 5, "ttl": 3600 * S, "max_value_size": 1024}, (2, 12, 8))
    text = render_text(Plan([Change("kv/CONFIG", "create", desired=config)]))
    assert text.splitlines()[1:5] == ['      bucket: "CONFIG"', "      history: 5", '      ttl: "1h"',
                                      '      max_value_size: "1KiB"']
