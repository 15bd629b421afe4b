# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check framework of `shai gitops validate` (docs/gitops.md, issue 13).

Shaped like ansible-lint's rules: one small module per check under gitops_rules/, each defining
``RULE = SomeRule()`` (an id, a description, ``check(ctx)`` yielding Findings); the package's
``RULES`` list is the registry and ``run(ctx)`` runs them. A rule sees only what the tree holds
(plus the objects Helm rendered from the tree's chart Applications): the ``Context``.

Contract (other rules rely on it):

- ``Obj(doc, file, app, rendered)``: one object the tree would apply. ``file`` is tree-relative;
  for chart-rendered objects ``"<app>:<chart>/templates/x.yaml"``. ``app`` is the Application that
  deploys it (None: the app-of-apps level / bootstrap).
- ``Finding(rule, file, obj, field, message, app=None, severity="error")``; severity "audit" is
  reported but does not fail validation.
- ``Context``: ``objects``, ``applications`` (name -> Obj), ``unverified`` (app -> why),
  ``kube_version``, ``crd_dir``; ``by_kind()``, ``get()``, ``workloads()``, ``pod_spec()``.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field as dc_field

WORKLOAD_KINDS = frozenset(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"])
SYSTEM_NAMESPACES = frozenset(["kube-system", "kube-public", "kube-node-lease", "default"])
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
PROVIDES_ANNOTATION = "shai.vectorweight.com/provides-crds"
# API groups served by Kubernetes itself or by k3s out of the box (no Application installs them).
BUILTIN_GROUPS = frozenset(
    [
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "helm.cattle.io",
        "k3s.cattle.io",
    ]
)


def object_id(doc):
    """"Kind namespace/name" (or "Kind name" for cluster-scoped objects)."""
    if not isinstance(doc, dict):
        return "(not a mapping)"
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return "%s %s%s" % (doc.get("kind", "?"), (ns + "/") if ns else "", name or "?")


def group_version(api_version):
    """("group", "version") of an apiVersion ("" for the core group)."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def json_path(path):
    """a.b[0].c of a jsonschema error path."""
    out = ""
    for item in path:
        if isinstance(item, int):
            out += "[%d]" % item
        else:
            out += ("." if out else "") + str(item)
    return out


@dataclass(frozen=True)
class Obj:
    """One Kubernetes object the tree (or a rendered chart) would apply."""

    doc: dict
    file: str
    app: str | None = None
    rendered: bool = False

    @property
    def kind(self):
        return str(self.doc.get("kind") or "")

    @property
    def api_version(self):
        return str(self.doc.get("apiVersion") or "")

    @property
    def meta(self):
        meta = self.doc.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self):
        return self.meta.get("name")

    @property
    def namespace(self):
        return self.meta.get("namespace")

    @property
    def ident(self):
        return object_id(self.doc)

    def finding(self, rule, field, message, severity="error"):
        """A Finding about this object (file, ident and app filled in)."""
        return Finding(rule, self.file, self.ident, field, message, app=self.app, severity=severity)


@dataclass
class Finding:
    """One problem: the file, the object, the field, a message and the rule that found it."""

    rule: str
    file: str
    obj: str
    field: str
    message: str
    app: str | None = None
    severity: str = "error"  # "audit": reported, not a failure

    @property
    def check(self):
        """The rule id (the name the JSON report has always used)."""
        return self.rule

    def __str__(self):
        text = "%s: %s: %s: %s [%s]" % (self.file, self.obj, self.field or "(object)", self.message, self.rule)
        return text + (" (audit)" if self.severity != "error" else "")

    def as_dict(self):
        return dict(
            file=self.file,
            object=self.obj,
            field=self.field,
            message=self.message,
            check=self.rule,
            rule=self.rule,
            app=self.app,
            severity=self.severity,
        )


@dataclass
class Context:
    """Everything a rule may look at: only what is in the tree (+ the rendered charts)."""

    objects: list
    applications: dict = dc_field(default_factory=dict)  # Application name -> Obj
    unverified: dict = dc_field(default_factory=dict)  # Application name -> why it was not rendered
    kube_version: str = "1.31"
    crd_dir: object = None  # Path | None: the CRDs kept as data (gitops/crds)
    _index: dict = dc_field(default_factory=dict, repr=False)

    def by_kind(self, *kinds):
        """The objects of these kinds, in tree order."""
        wanted = set(kinds)
        return [o for o in self.objects if o.kind in wanted]

    def get(self, kind, namespace, name):
        """The object kind namespace/name (namespace None: cluster-scoped), or None."""
        if not self._index:
            for o in self.objects:
                self._index.setdefault((o.kind, o.namespace, o.name), o)
        return self._index.get((kind, namespace, name))

    def workloads(self):
        return [o for o in self.objects if o.kind in WORKLOAD_KINDS]

    @staticmethod
    def pod_spec(obj):
        """The pod spec of a workload (Pod: its spec; CronJob: the job template's pod), or None."""
        doc = obj.doc if isinstance(obj, Obj) else obj
        kind = doc.get("kind")
        spec = doc.get("spec") or {}
        if kind not in WORKLOAD_KINDS or not isinstance(spec, dict):
            return None
        if kind == "Pod":
            return spec
        if kind == "CronJob":
            spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
        pod = (spec.get("template") or {}).get("spec")
        return pod if isinstance(pod, dict) else None

    @staticmethod
    def pod_spec_path(obj):
        """The JSON path of pod_spec(obj) ("spec.template.spec", ...)."""
        kind = obj.kind if isinstance(obj, Obj) else obj.get("kind")
        if kind == "Pod":
            return "spec"
        if kind == "CronJob":
            return "spec.jobTemplate.spec.template.spec"
        return "spec.template.spec"

    def containers(self, obj):
        """(json path, container) of every init container and container of a workload."""
        pod = self.pod_spec(obj) or {}
        prefix = self.pod_spec_path(obj)
        out = []
        for key in ("initContainers", "containers"):
            for i, container in enumerate(pod.get(key) or []):
                if isinstance(container, dict):
                    out.append(("%s.%s[%d]" % (prefix, key, i), container))
        return out


class Rule:
    """A check: a kebab-case unique id, a one-line description, check(ctx) -> Findings."""

    id = ""
    description = ""

    def check(self, ctx):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return "<Rule %s>" % self.id


def helm_values(app_doc):
    """The Helm values of an Application's chart source(s): `valuesObject` when set, else the
    `values` string parsed (ArgoCD: valuesObject takes precedence over values)."""
    import yaml

    out = {}
    spec = app_doc.get("spec") or {}
    sources = spec.get("sources") or ([spec["source"]] if isinstance(spec.get("source"), dict) else [])
    for source in sources:
        helm = (source or {}).get("helm") or {}
        if isinstance(helm.get("valuesObject"), dict):
            out.update(helm["valuesObject"])
        elif isinstance(helm.get("values"), str) and helm["values"].strip():
            parsed = yaml.safe_load(helm["values"])
            if isinstance(parsed, dict):
                out.update(parsed)
    return out


def helm_value_strings(app_doc):
    """Every string leaf of an Application's Helm values."""
    out = set()
    stack = [helm_values(app_doc)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node:
            out.add(node)
    return out


def declared_namespaces(ctx):
    """{name: Obj} of the Namespaces the tree declares."""
    return dict((o.name, o) for o in ctx.by_kind("Namespace") if o.name)


class NamespaceHas(Rule):
    """Every declared namespace (system namespaces excepted) holds at least one object of `kind`
    that satisfies `accept(doc)`."""

    def __init__(self, rule_id, kind, message, accept=None):
        self.id = rule_id
        self.kind = kind
        self.message = message
        self.accept = accept or (lambda doc: True)
        self.description = "every declared namespace has a %s" % kind

    def check(self, ctx):
        covered = set(o.namespace for o in ctx.by_kind(self.kind) if self.accept(o.doc))
        for name, ns in sorted(declared_namespaces(ctx).items()):
            if name not in SYSTEM_NAMESPACES and name not in covered:
                yield Finding(self.id, ns.file, "Namespace %s" % name, "", self.message % dict(name=name), app=ns.app)
