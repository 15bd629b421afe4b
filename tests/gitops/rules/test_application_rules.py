"""sync-policy, namespaces, pinned-charts: the Applications themselves."""

from __future__ import annotations

import pytest
from rule_fixtures import application, findings, namespace, obj

APP = "apps/a.yaml"


def test_good() -> None:
    objs = [obj(namespace("apps")), obj(application("a", chart="c", version="1.2.3"), APP)]
    for rule in ("sync-policy", "namespaces", "pinned-charts"):
        assert findings(rule, *objs) == []


def test_sync_policy_bad() -> None:
    app = application("root", path="apps", syncPolicy={"automated": {"prune": True}})
    app["metadata"]["labels"] = {"shai.vectorweight.com/root": "true"}
    assert findings("sync-policy", obj(app, "bootstrap/root.yaml")) == [
        "bootstrap/root.yaml: Application argocd/root: spec.syncPolicy.syncOptions: must contain "
        "CreateNamespace=false (namespaces are declared) [sync-policy]",
        "bootstrap/root.yaml: Application argocd/root: spec.syncPolicy.retry.limit: no retry policy "
        "[sync-policy]",
        "bootstrap/root.yaml: Application argocd/root: spec.syncPolicy.automated.prune: the root Application "
        "must never auto-prune [sync-policy]",
    ]


def test_undeclared_destination() -> None:
    assert findings("namespaces", obj(application("a", path="p", dest="nowhere"), APP)) == [
        "apps/a.yaml: Application argocd/a: spec.destination.namespace: namespace 'nowhere' is not declared "
        "by the tree (CreateNamespace=false) [namespaces]"
    ]


@pytest.mark.parametrize("rev", ["latest", "*", "1.x", "^1.18.0", ">=1.0.0", "HEAD", ""])
def test_unpinned_chart(rev: str) -> None:
    assert findings("pinned-charts", obj(application("a", chart="c", version=rev), APP)) == [
        f"apps/a.yaml: Application argocd/a: spec.source.targetRevision: chart c version {rev!r} is not "
        "pinned (exact version, never latest/ranges) [pinned-charts]"
    ]
