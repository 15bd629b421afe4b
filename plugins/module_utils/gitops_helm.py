# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the chart Applications of a GitOps tree with the real Helm, as ArgoCD would (ADR 0304).

The one implementation, used by `shai gitops validate --charts`, the gitops_render module, the
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
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError, _Loader, dump_yaml, yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Obj, object_id
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import (
    app_sources,
    app_wave,
    expand_documents,
    is_application,
    load_tree_objects,
    tree_objs,
)

HELM_VERSION = "v4.3.2"  # tools/helm/go.mod (tools/build.sh helm)
HELM_TIMEOUT = 300
SOURCE_PREFIX = "# Source: "

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
# Helm binary, cache
# --------------------------------------------------------------------------------------------


def cache_root():
    base = os.environ.get("SHAI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "shai"
    )
    return base


def find_helm(helm=None):
    """The helm binary: `helm`, $SHAI_HELM, ${SHAI_CACHE}/bin/helm (tools/build.sh helm), PATH."""
    for candidate in (helm, os.environ.get("SHAI_HELM"), os.path.join(cache_root(), "bin", "helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("helm")
    if found:
        return found
    raise GitopsError("helm not found: build it with `tools/build.sh helm` (make tools) or set SHAI_HELM")


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_DIR_DIGESTS = {}


def chart_digest(chart_dir):
    """sha256 of every file of a chart directory (names and contents), once per process."""
    key = os.path.abspath(chart_dir)
    if key not in _DIR_DIGESTS:
        digest = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(chart_dir):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                digest.update(os.path.relpath(full, chart_dir).encode("utf-8") + b"\0")
                digest.update(_file_digest(full).encode("ascii"))
        _DIR_DIGESTS[key] = digest.hexdigest()
    return _DIR_DIGESTS[key]


_HELM_DIGESTS = {}


def _helm_digest(helm):
    st = os.stat(helm)
    key = (os.path.abspath(helm), st.st_size, st.st_mtime_ns)
    if key not in _HELM_DIGESTS:
        _HELM_DIGESTS[key] = _file_digest(helm)
    return _HELM_DIGESTS[key]


def _cache_path(key):
    return os.path.join(cache_root(), "helm-render", key[:2], key + ".json")


def _cache_get(key):
    try:
        with open(_cache_path(key)) as handle:
            return [tuple(item) for item in json.load(handle)]
    except (OSError, ValueError, TypeError):
        return None


def _cache_put(key, pairs):
    """Best effort (a cache that cannot be written only costs time). Parsed documents are kept
    as JSON: reading them back is ~20x faster than parsing Helm's YAML again."""
    path = _cache_path(key)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".render-")
        with os.fdopen(fd, "w") as handle:
            json.dump([list(item) for item in pairs], handle)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        pass


_USES_CAPABILITIES = {}


def uses_api_versions(chart_dir):
    """Whether any template of the chart (or its subcharts) looks at .Capabilities.APIVersions:
    only then can --api-versions change its output (and belong in its cache key)."""
    key = os.path.abspath(chart_dir)
    if key not in _USES_CAPABILITIES:
        found = False
        for dirpath, _dirnames, filenames in os.walk(chart_dir):
            for name in filenames:
                if name.endswith((".yaml", ".yml", ".tpl", ".txt")):
                    with open(os.path.join(dirpath, name), "rb") as handle:
                        if b"APIVersions" in handle.read():
                            found = True
                            break
            if found:
                break
        _USES_CAPABILITIES[key] = found
    return _USES_CAPABILITIES[key]


# --------------------------------------------------------------------------------------------
# ArgoCD's helm template invocation
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
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".crds-")
        with os.fdopen(fd, "w") as handle:
            json.dump(dict(api_versions=sorted(versions), scope=scope), handle)
        os.replace(tmp, path)
    except OSError:
        pass
    return versions, scope


def chart_dir_of(charts_dir, chart, version):
    """<charts_dir>/<chart>/<version>/<chart> (the layout of `helm pull --untar --untardir`)."""
    return os.path.join(str(charts_dir), chart, str(version), chart)


def helm_values_text(helm_spec):
    """The values ArgoCD passes: valuesObject when set, else the values string."""
    if isinstance(helm_spec.get("valuesObject"), dict):
        return dump_yaml(helm_spec["valuesObject"])
    values = helm_spec.get("values")
    if isinstance(values, dict):  # older ArgoCD accepted an object here too
        return dump_yaml(values)
    return values if isinstance(values, str) and values.strip() else None


def template_args(release, chart_dir, namespace, kube_version, api_versions, helm_spec):
    """`helm template` arguments (without binary and values file) and the value files, as
    ArgoCD's repo-server builds them."""
    args = ["template", release, chart_dir, "--namespace", namespace or "default"]
    if kube_version:
        args += ["--kube-version", str(kube_version)]
    for api in sorted(api_versions or ()):
        args += ["--api-versions", api]
    if not helm_spec.get("skipCrds"):
        args.append("--include-crds")
    if helm_spec.get("skipTests"):
        args.append("--skip-tests")
    for name in helm_spec.get("valueFiles") or []:
        if str(name).startswith("$"):
            raise GitopsError("valueFiles %s refers to another source (multi-source refs are not rendered)" % name)
        args += ["-f", os.path.join(chart_dir, str(name))]
    for param in helm_spec.get("parameters") or []:
        flag = "--set-string" if param.get("forceString") else "--set"
        args += [flag, "%s=%s" % (param.get("name"), param.get("value"))]
    return args


def _run_helm(helm, args, values_text):
    """stdout of helm, or raises GitopsError with its stderr."""
    with tempfile.TemporaryDirectory(prefix="shai-helm-") as tmp:
        cmd = [helm] + list(args)
        if values_text is not None:
            values_file = os.path.join(tmp, "values.yaml")
            with open(values_file, "w") as handle:
                handle.write(values_text)
            cmd += ["--values", values_file]
        env = dict(os.environ)
        # Offline and hermetic: no repository index, plugins or registry config of the user.
        for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
            env[var] = os.path.join(tmp, sub)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=HELM_TIMEOUT, env=env, check=False)
    if res.returncode != 0:
        raise GitopsError((res.stderr or res.stdout).strip() or "helm exited %d" % res.returncode)
    return res.stdout


_MEMO = {}


def render_chart(helm, args, values_text, chart_dir, app, chart):
    """([(file, doc)], cached) of one `helm template`, through the content-hash cache (disk and
    process). The --api-versions flags are part of the key only for charts that read them."""
    keyed = args
    if not uses_api_versions(chart_dir):
        keyed = [a for i, a in enumerate(args) if a != "--api-versions" and (i == 0 or args[i - 1] != "--api-versions")]
    key = hashlib.sha256(
        json.dumps([_helm_digest(helm), chart_digest(chart_dir), keyed, values_text, app, chart], sort_keys=True).encode("utf-8")
    ).hexdigest()
    if key in _MEMO:
        return _MEMO[key], True
    pairs = _cache_get(key)
    cached = pairs is not None
    if pairs is None:
        pairs = parse_helm_output(_run_helm(helm, args, values_text), app, chart)
        _cache_put(key, pairs)
    _MEMO[key] = pairs
    return pairs, cached


def parse_helm_output(text, app, chart):
    """[(file, doc)] of helm template's output; file is "<app>:<Source path>"."""
    out = []
    source = None
    for chunk in text.split("\n---"):
        # Templates get a Source line per document; a crds/ file is emitted whole, once.
        for line in chunk.splitlines():
            if line.startswith(SOURCE_PREFIX):
                source = line[len(SOURCE_PREFIX):].strip()
                break
        rel = "%s:%s" % (app, source or chart)
        try:
            docs = [d for d in yaml.load_all(chunk, Loader=_Loader) if d is not None]
        except yaml.YAMLError as exc:
            raise GitopsError("%s: helm rendered invalid YAML: %s" % (rel, exc))
        docs, bad = expand_documents(docs, rel)
        if bad:
            raise GitopsError("%s: helm rendered a document that is not a mapping" % rel)
        out.extend((rel, d) for d in docs)
    return out


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
