# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the chart Applications of a GitOps tree with the real Helm, as ArgoCD would (ADR 0304).

The one implementation (helm itself, its arguments and the cache: gitops_helm_run.py), used by `shai gitops validate --charts`, the gitops_render module, the
apply-to-control-plane path (shai lab kube apply-tree) and benchmarks/gitops_render.py:

    expand_tree(tree_dir, charts_dir, kube_version, api_versions=None, jobs=2, helm=None,
                crd_dir=None) -> list[AppRender]

    AppRender(name, wave: int, namespace, kind: "chart" | "directory" | "other",
              objects: list[Obj], unverified: str | None, error: str | None,
              chart, version, file, cached)

For every Application of the tree (apps/, bootstrap/):

- a directory source -> the tree's objects below that path (Obj.app = the Application);
- a Helm chart source -> ``helm template <releaseName or app name> <charts_dir>/<chart>/<version>/<chart>
  --namespace <destination namespace> --kube-version <k> --api-versions <each group/version and
  group/version/Kind of the CRDs> --include-crds (unless skipCrds) [--skip-tests] -f <valueFiles>
  -f <values: valuesObject, else the values string> --set/--set-string <parameters>``;
  objects without a namespace get the destination namespace when their kind is namespaced
  (ArgoCD does the same); Helm test hooks are dropped (ArgoCD never applies them);
- a chart whose source is not in charts_dir -> ``unverified = "no chart source for <chart>
  <version> in <dir>"`` and no objects (callers report it by name, never as a pass);
- ``helm template`` failing -> ``error`` holds Helm's message (a validation finding).

``api_versions`` default: every served version of the CRDs in crd_dir, in the tree, and in the
charts' rendered output (a second pass re-renders when the charts add CRDs). Helm runs in
parallel (``jobs``); each rendered output is cached under ``${SHAI_CACHE:-~/.cache/shai}/helm-render/``
by a hash of (helm binary, chart directory contents, values, flags), so a warm run only hashes.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import glob
import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules
from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError, _Loader, yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_helm_run import (  # noqa: F401 (re-exported)
    _file_digest,
    cache_root,
    chart_dir_of,
    find_helm,
    helm_values_text,
    render_chart,
    template_args,
)
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Obj, object_id
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import (
    app_sources,
    app_wave,
    is_application,
    load_tree_objects,
    tree_objs,
)


# Kinds served by Kubernetes without a namespace (namespaced is the default; CRDs say their scope).
CLUSTER_SCOPED = frozenset(
    [
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "PriorityClass",
        "RuntimeClass",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "APIService",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "CertificateSigningRequest",
        "ClusterTrustBundle",
        "DeviceClass",
        "IPAddress",
        "ServiceCIDR",
        "VolumeAttributesClass",
    ]
)


@dataclass
class AppRender:
    """What one Application of the tree deploys."""

    name: str
    wave: int
    namespace: str | None
    kind: str  # "chart" | "directory" | "other"
    objects: list = field(default_factory=list)  # list[Obj]
    unverified: str | None = None
    error: str | None = None
    chart: str | None = None
    version: str | None = None
    file: str = ""  # the tree file holding the Application
    ident: str = ""  # "Application <namespace>/<name>"
    cached: bool = False
    source: dict | None = field(default=None, repr=False)  # the chart source of the Application

    def as_dict(self):
        return dict(
            name=self.name,
            wave=self.wave,
            namespace=self.namespace,
            kind=self.kind,
            chart=self.chart,
            version=self.version,
            objects=len(self.objects),
            unverified=self.unverified,
            error=self.error,
            cached=self.cached,
        )


# --------------------------------------------------------------------------------------------
# CRDs: API versions and scopes
# --------------------------------------------------------------------------------------------


def api_versions_of(crds):
    """["group/version", "group/version/Kind", ...] served by these CRD documents."""
    out = set()
    for crd in crds:
        spec = (crd or {}).get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            if isinstance(version, dict) and version.get("served", True) and group and kind:
                out.add("%s/%s" % (group, version["name"]))
                out.add("%s/%s/%s" % (group, version["name"], kind))
    return out


def crd_documents(crd_dir):
    """The CustomResourceDefinitions of a directory (gitops/crds)."""
    out = []
    for full in sorted(glob.glob(os.path.join(str(crd_dir), "*.yaml"))):
        with open(full) as handle:
            out.extend(d for d in yaml.load_all(handle, Loader=_Loader) if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition")
    return out


def crd_summary(crd_dir):
    """(api versions, {kind: namespaced}) of the CRDs of a directory, cached on disk by the
    files' hash (parsing the CRDs' YAML is the slow part)."""
    digest = hashlib.sha256()
    for full in sorted(glob.glob(os.path.join(str(crd_dir), "*.yaml"))):
        digest.update(os.path.basename(full).encode("utf-8") + b"\0" + _file_digest(full).encode("ascii"))
    path = os.path.join(cache_root(), "helm-render", "crds-%s.json" % digest.hexdigest()[:24])
    try:
        with open(path) as handle:
            data = json.load(handle)
        return set(data["api_versions"]), dict(data["scope"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    crds = crd_documents(crd_dir)
    versions, scope = api_versions_of(crds), _namespaced_kinds(crds)
    try:
        atomic_write(path, json.dumps(dict(api_versions=sorted(versions), scope=scope)))
    except OSError:
        pass
    return versions, scope


def _is_test_hook(doc):
    hooks = ((doc.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return any(h.strip().startswith("test") for h in str(hooks).split(","))


def _namespaced_kinds(crds):
    """{kind: True/False} of CRD kinds by scope."""
    out = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        if kind:
            out[kind] = spec.get("scope", "Namespaced") == "Namespaced"
    return out


def _default_namespace(doc, namespace, crd_scope):
    """doc, or a copy with metadata.namespace set when ArgoCD would set it (namespaced kind,
    none given). The cached documents themselves are never changed."""
    kind = doc.get("kind")
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or meta.get("namespace") or not namespace:
        return doc
    if not crd_scope.get(kind, kind not in CLUSTER_SCOPED):
        return doc
    out = dict(doc)
    out["metadata"] = dict(meta, namespace=namespace)
    return out


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------


def _plan(pairs, tree_objects):
    """One AppRender per Application of the tree (chart ones not rendered yet)."""
    plans = []
    by_app = {}
    for obj in tree_objects:
        if obj.app:
            by_app.setdefault(obj.app, []).append(obj)
    for rel, doc in pairs:
        if not is_application(doc):
            continue
        meta = doc.get("metadata") or {}
        name = meta.get("name")
        spec = doc.get("spec") or {}
        wave = app_wave(doc)
        sources = app_sources(doc)
        charts = [s for _p, s in sources if s.get("chart")]
        render = AppRender(
            name=name,
            wave=wave if wave is not None else 0,
            namespace=(spec.get("destination") or {}).get("namespace"),
            kind="other",
            file=rel,
            ident=object_id(doc),
        )
        if charts:
            render.kind = "chart"
            render.chart = str(charts[0]["chart"])
            render.version = str(charts[0].get("targetRevision", ""))
            render.source = charts[0]
        elif any(s.get("path") is not None for _p, s in sources):
            render.kind = "directory"
            render.objects = list(by_app.get(name, []))
        else:
            render.unverified = "no directory or chart source (not rendered)"
        plans.append(render)
    return plans


def _render_one(helm, plan, charts_dir, kube_version, api_versions, crd_scope):
    """Render one chart AppRender in place."""
    source = plan.source
    helm_spec = source.get("helm") or {}
    chart_dir = chart_dir_of(charts_dir, plan.chart, plan.version)
    if not os.path.isfile(os.path.join(chart_dir, "Chart.yaml")):
        plan.unverified = "no chart source for %s %s in %s" % (plan.chart, plan.version, charts_dir)
        plan.objects = []
        return plan
    try:
        release = helm_spec.get("releaseName") or plan.name
        args = template_args(release, chart_dir, plan.namespace, kube_version, api_versions, helm_spec)
        pairs, plan.cached = render_chart(helm, args, helm_values_text(helm_spec), chart_dir, plan.name, plan.chart)
        objects = []
        for rel, doc in pairs:
            if _is_test_hook(doc):
                continue
            objects.append(Obj(_default_namespace(doc, plan.namespace, crd_scope), rel, plan.name, True))
        plan.objects = objects
        plan.error = None
    except (GitopsError, subprocess.TimeoutExpired, OSError) as exc:
        plan.objects = []
        plan.error = "helm template %s %s: %s" % (plan.chart, plan.version, exc)
    return plan


def expand_tree(tree_dir, charts_dir, kube_version, api_versions=None, jobs=2, helm=None, crd_dir=None):
    """Every Application of a rendered tree with the objects it deploys (see the module docstring)."""
    if not os.path.isdir(str(tree_dir)):
        raise GitopsError("%s is not a directory" % tree_dir)
    if charts_dir is not None and not os.path.isdir(str(charts_dir)):
        raise GitopsError("charts directory %s does not exist" % charts_dir)
    pairs, _findings = load_tree_objects(str(tree_dir))
    plans = _plan(pairs, tree_objs(pairs))
    charts = [p for p in plans if p.kind == "chart"]
    if charts_dir is None:
        for plan in charts:
            plan.unverified = "no charts directory given: %s %s not rendered" % (plan.chart, plan.version)
        return plans
    if not charts:
        return plans
    helm = find_helm(helm)
    crds = [d for _r, d in pairs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    dir_versions, dir_scope = crd_summary(crd_dir) if crd_dir else (set(), {})
    explicit = api_versions is not None
    versions = set(api_versions or ()) | (set() if explicit else api_versions_of(crds) | dir_versions)
    for _pass in range(2):
        scope = dict(dir_scope, **_namespaced_kinds(crds))
        with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            list(pool.map(lambda p: _render_one(helm, p, charts_dir, kube_version, sorted(versions), scope), charts))
        if explicit:
            break
        rendered_crds = [o.doc for p in charts for o in p.objects if o.kind == "CustomResourceDefinition"]
        more = api_versions_of(rendered_crds) - versions
        if not more:
            break
        versions |= more  # charts that test .Capabilities.APIVersions see the CRDs of the other charts
        crds = crds + rendered_crds
    return plans


def rendered_objects(renders):
    """The chart-rendered Objs of expand_tree's result."""
    return [o for r in renders if r.kind == "chart" for o in r.objects]


def unverified_apps(renders):
    """{Application: why it was not rendered}."""
    return dict((r.name, r.unverified) for r in renders if r.unverified)


def validate_with_charts(tree_dir, crd_dir, kube_version, charts_dir=None, jobs=2, helm=None, select=None):
    """Validate a tree and, with charts_dir, everything its chart Applications render.

    Returns (object count, [Finding], [AppRender]). An Application whose chart failed to render
    is a `helm-render` finding on the Application; one without a chart source is listed in
    ctx.unverified / unverified_apps(renders) (reported by name, not a finding, never a pass).
    """
    renders = []
    if charts_dir is not None:
        renders = expand_tree(tree_dir, charts_dir, kube_version, jobs=jobs, helm=helm, crd_dir=crd_dir)
    count, findings = gitops_rules.validate_tree(
        tree_dir, crd_dir, kube_version, extra=rendered_objects(renders), unverified=unverified_apps(renders), select=select
    )
    for render in renders:
        if render.error:
            findings.append(
                gitops_rules.Finding(
                    "helm-render", render.file, render.ident, "spec.source", render.error, app=render.name
                )
            )
    return count, findings, renders
