# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""secret-refs: every Secret the tree (and the rendered charts) reads exists, in the reader's
namespace, with the key it reads; every sealed Secret has a reader; a tree without SealedSecrets
is a finding, not a pass (issue 13 §3).

Readers: env ``secretKeyRef``, ``envFrom.secretRef``, ``secret`` and projected volumes of every
workload; Traefik Middleware ``basicAuth.secret``; ``existingSecret``-style values in a chart
Application's Helm values (EXISTING_SECRET_KEYS, in the Application's destination namespace).
Providers: SealedSecrets (the catalog, sealed), Secrets the charts render, cert-manager
Certificates (``spec.secretName``: tls.crt, tls.key, ca.crt), and Secrets a chart creates at run
time. A SealedSecret whose template carries the annotation
``shai.vectorweight.com/operator-only`` (why) is read by people, not pods; one with
``shai.vectorweight.com/consumers: app[,app]`` is read by those chart Applications by a fixed name.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule, helm_values

OPERATOR_ONLY = "shai.vectorweight.com/operator-only"
CONSUMERS = "shai.vectorweight.com/consumers"
# Helm value keys whose string value names an existing Secret (any depth).
EXISTING_SECRET_KEYS = frozenset(["existingSecret", "existingSecretName", "githubConfigSecret"])
# (chart, values path) -> the value names a Secret; paths the generic keys above do not cover.
SECRET_VALUE_PATHS = {
    "gitlab-runner": [("runners", "secret")],
    "gitlab": [("global", "initialRootPassword", "secret")],
    "longhorn": [("defaultBackupStore", "backupTargetCredentialSecret")],  # docs/backup.md
}
TLS_KEYS = frozenset(["tls.crt", "tls.key", "ca.crt"])
# Secrets a chart creates at run time (a hook Job), not rendered: chart -> name patterns (fnmatch).
CHART_RUNTIME_SECRETS = {
    "argo-cd": ["argocd-redis"],  # the redis-secret-init Job (argo-cd 8.x)
    "kube-prometheus-stack": ["*-kube-prometheus-admission"],  # admission-create Job (kube-webhook-certgen)
}


def secret_refs(container):
    """(field suffix, secret name, key or None) of every Secret a container reads."""
    refs = []
    for i, env in enumerate(container.get("env") or []):
        ref = ((env or {}).get("valueFrom") or {}).get("secretKeyRef")
        if ref and not ref.get("optional"):
            refs.append(("env[%d].valueFrom.secretKeyRef" % i, ref.get("name"), ref.get("key")))
    for i, env in enumerate(container.get("envFrom") or []):
        ref = (env or {}).get("secretRef")
        if ref and not ref.get("optional"):
            refs.append(("envFrom[%d].secretRef" % i, ref.get("name"), None))
    return refs


def optional_refs(container):
    """Names of the Secrets a container reads only if they exist (``optional: true``): they need
    not resolve, but they do count as readers of a sealed Secret."""
    names = []
    for env in container.get("env") or []:
        ref = ((env or {}).get("valueFrom") or {}).get("secretKeyRef")
        if ref and ref.get("optional"):
            names.append(ref.get("name"))
    for env in container.get("envFrom") or []:
        ref = (env or {}).get("secretRef")
        if ref and ref.get("optional"):
            names.append(ref.get("name"))
    return names


def volume_refs(pod):
    """(field suffix, secret name, keys) of the pod's secret and projected-secret volumes."""
    refs = []
    for i, vol in enumerate(pod.get("volumes") or []):
        secret = (vol or {}).get("secret")
        if isinstance(secret, dict) and not secret.get("optional"):
            keys = [item.get("key") for item in secret.get("items") or []]
            refs.append(("volumes[%d].secret.secretName" % i, secret.get("secretName"), keys))
        for j, source in enumerate(((vol or {}).get("projected") or {}).get("sources") or []):
            secret = (source or {}).get("secret")
            if isinstance(secret, dict) and not secret.get("optional"):
                keys = [item.get("key") for item in secret.get("items") or []]
                refs.append(("volumes[%d].projected.sources[%d].secret" % (i, j), secret.get("name"), keys))
    return refs


def _template_meta(obj):
    spec = obj.doc.get("spec") or {}
    meta = (spec.get("template") or {}).get("metadata") or {}
    ann = dict(obj.meta.get("annotations") or {})
    ann.update(meta.get("annotations") or {})
    return ann


def sealed_secrets(ctx):
    """{(namespace, name): set of keys} of the tree's SealedSecrets."""
    sealed = {}
    for obj in ctx.by_kind("SealedSecret"):
        spec = obj.doc.get("spec") or {}
        keys = set()
        for source in (spec.get("encryptedData"), (spec.get("template") or {}).get("data")):
            if isinstance(source, dict):
                keys |= set(source)
        sealed[(obj.namespace, obj.name)] = keys
    return sealed


def providers(ctx):
    """{(namespace, name): set of keys, or None when the keys are not known} of every Secret the
    tree makes exist: SealedSecrets, rendered Secrets, Certificates."""
    out = dict(sealed_secrets(ctx))
    for obj in ctx.by_kind("Secret"):
        keys = set(obj.doc.get("data") or {}) | set(obj.doc.get("stringData") or {})
        out.setdefault((obj.namespace, obj.name), keys or None)
    for obj in ctx.by_kind("Certificate"):
        name = (obj.doc.get("spec") or {}).get("secretName")
        if name:
            out.setdefault((obj.namespace, name), set(TLS_KEYS))
    return out


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, path + (str(key),))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, path + ("[%d]" % i,))
    else:
        yield path, node


def value_refs(app):
    """(values path, secret name) of the existingSecret-style Helm values of a chart Application."""
    spec = app.doc.get("spec") or {}
    sources = spec.get("sources") or [spec.get("source") or {}]
    charts = set((s or {}).get("chart") for s in sources)
    paths = set()
    for chart in charts:
        paths.update(SECRET_VALUE_PATHS.get(chart, []))
    out = []
    for path, value in _walk(helm_values(app.doc)):
        if isinstance(value, str) and value and path and (path[-1] in EXISTING_SECRET_KEYS or path in paths):
            out.append((".".join(path), value))
    return out


class SecretRefs(Rule):
    id = "secret-refs"
    description = "every Secret read exists in the reader's namespace with the key; every sealed Secret has a reader"

    def check(self, ctx):
        sealed = sealed_secrets(ctx)
        if not sealed:
            return  # secrets-sealed reports it: nothing to check against
        known = providers(ctx)
        read = set()
        for obj in ctx.workloads():
            pod = ctx.pod_spec(obj) or {}
            base = ctx.pod_spec_path(obj)
            refs = [("%s.%s" % (prefix, suffix), name, [key] if key else [])
                    for prefix, container in ctx.containers(obj) for suffix, name, key in secret_refs(container)]
            refs += [("%s.%s" % (base, suffix), name, keys) for suffix, name, keys in volume_refs(pod)]
            for field, name, keys in refs:
                read.add((obj.namespace, name))
                yield from self._resolve(obj, field, obj.namespace, name, keys, known, sealed)
            read.update((obj.namespace, name) for _p, c in ctx.containers(obj) for name in optional_refs(c))
        for mw in ctx.by_kind("Middleware"):
            name = ((mw.doc.get("spec") or {}).get("basicAuth") or {}).get("secret")
            if name:
                read.add((mw.namespace, name))
                yield from self._resolve(mw, "spec.basicAuth.secret", mw.namespace, name, ["users"], known, sealed)
        for app_name in sorted(ctx.applications):
            app = ctx.applications[app_name]
            dest = ((app.doc.get("spec") or {}).get("destination") or {}).get("namespace")
            for path, name in value_refs(app):
                read.add((dest, name))
                field = "spec.source.helm.valuesObject." + path
                yield from self._resolve(app, field, dest, name, [], known, sealed)
        for obj in ctx.by_kind("SealedSecret"):
            if (obj.namespace, obj.name) in read:
                continue
            ann = _template_meta(obj)
            if ann.get(OPERATOR_ONLY):
                continue
            consumers = [a.strip() for a in str(ann.get(CONSUMERS, "")).split(",") if a.strip()]
            missing = [a for a in consumers if a not in ctx.applications]
            if consumers and not missing:
                continue
            yield obj.finding(
                self.id, "spec.template.metadata.annotations",
                "sealed Secret %s/%s is read by nothing in the tree%s: wire it to its consumer, or mark its catalog entry "
                "(annotations %s: APP or %s: why)"
                % (obj.namespace, obj.name,
                   " (declared consumers %s are not Applications of the tree)" % ", ".join(missing) if missing else "",
                   CONSUMERS, OPERATOR_ONLY),
            )

    def _resolve(self, obj, field, ns, name, keys, known, sealed):
        if (ns, name) not in known and self._runtime(obj, name):
            return
        if (ns, name) not in known:
            elsewhere = sorted(n for n, s in sealed if s == name)
            hint = " (sealed in namespace %s)" % ", ".join(elsewhere) if elsewhere else ""
            yield obj.finding(self.id, field, "reads Secret %s/%s, which is not a SealedSecret of the tree%s" % (ns, name, hint))
            return
        have = known[(ns, name)]
        for key in keys:
            if key and have is not None and key not in have:
                yield obj.finding(self.id, field,
                                  "Secret %s/%s has no key %r (keys: %s)" % (ns, name, key, ", ".join(sorted(have))))

    @staticmethod
    def _runtime(obj, name):
        """A Secret the chart of the reader's Application creates at run time."""
        if not obj.rendered or ":" not in obj.file:
            return False
        chart = obj.file.split(":", 1)[1].split("/", 1)[0]  # "<app>:<chart>/templates/x.yaml"
        patterns = CHART_RUNTIME_SECRETS.get(chart, [])
        return any(fnmatch.fnmatchcase(str(name), p) for p in patterns)


RULE = SecretRefs()
