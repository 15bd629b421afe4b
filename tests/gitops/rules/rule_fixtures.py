"""Small in-memory objects for the per-rule tests (good and bad fixtures, no rendered tree)."""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as rules
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Context, Obj
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import build_context

from shai.gitops import core

CRDS = core.Layout.default().crds
KUBE = "1.33"

Doc = dict[str, Any]


def obj(doc: Doc, file: str = "platform/x/x.yaml", app: str | None = None, rendered: bool = False) -> Obj:
    return Obj(copy.deepcopy(doc), file, app, rendered)


def context(*objs: Obj) -> Context:
    ctx: Context = build_context(list(objs), KUBE, CRDS)
    return ctx


def findings(rule_id: str, *objs: Obj) -> list[str]:
    """str() of the findings of one rule over these objects."""
    return [str(f) for f in rules.run(context(*objs), select=[rule_id])]


def namespace(name: str) -> Doc:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment(
    name: str = "web", ns: str = "apps", image: str = "docker.io/library/nginx:1.27.0", **container: Any
) -> Doc:
    c = {
        "name": name,
        "image": image,
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "1", "memory": "128Mi"},
        },
    }
    c.update(container)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [c]}},
        },
    }


def application(
    name: str,
    wave: int | str = 0,
    path: str | None = None,
    chart: str | None = None,
    version: str = "1.0.0",
    dest: str = "apps",
    helm: Doc | None = None,
    **spec: Any,
) -> Doc:
    source: Doc = {"repoURL": "https://git.example/platform.git", "targetRevision": "main", "path": path}
    if chart:
        source = {"repoURL": "https://charts.example", "chart": chart, "targetRevision": version}
        if helm is not None:
            source["helm"] = helm
    doc: Doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
        },
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": dest},
            "source": source,
            "syncPolicy": {"syncOptions": ["CreateNamespace=false"], "retry": {"limit": 5}},
        },
    }
    doc["spec"].update(spec)
    return doc
