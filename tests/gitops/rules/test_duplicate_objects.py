"""duplicate-object: one object declared in two files (also .json files and List items)."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as rules
from rule_fixtures import deployment, findings, obj


def test_good_same_name_other_namespace_or_kind() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "apps"}}
    assert findings("duplicate-object", obj(deployment()), obj(deployment(ns="b")), obj(cm)) == []


def test_bad_across_yaml_json_and_list(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: apps}\n"
    )
    (tmp_path / "b.json").write_text(
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "apps"}}'
    )
    (tmp_path / "c.yml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: apps}}\n"
    )
    count, out = rules.validate_tree(tmp_path, None, "1.33", select=["duplicate-object"])
    assert count == 3
    assert [str(f) for f in out] == [
        "b.json: ConfigMap apps/c: metadata.name: also declared in a.yaml [duplicate-object]",
        "c.yml: ConfigMap apps/c: metadata.name: also declared in a.yaml [duplicate-object]",
    ]


def test_broken_json_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{nope")
    _count, out = rules.validate_tree(tmp_path, None, "1.33", select=[])
    assert len(out) == 1 and str(out[0]).startswith("x.json: (file): (object): invalid JSON")
