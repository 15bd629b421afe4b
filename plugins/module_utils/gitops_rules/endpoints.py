# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""endpoints: every in-cluster URL a workload is configured with reaches a Service and port of
the tree, and the NetworkPolicies allow that exact flow; every IngressRoute/Ingress host has a
backend Service (with the port) and a certificate for it.

URLs are taken from container env values and from the ConfigMaps a workload mounts or reads
(LiteLLM's api_base, Open WebUI's base URLs, SearXNG, MCP, Redis/PostgreSQL URLs...), and from
the Helm values of chart Applications (e.g. Prometheus' Alertmanager targets, host:port). A host
is in-cluster when it names a Service (`svc.ns.svc[.cluster.local]`, `svc.ns.svc`); other hosts
are external and not checked here (the GPU workstation is reached through its selector-less
Service). For a selector-less Service the flow is checked as egress to its EndpointSlice
addresses. The git repository an Application names by address (ArgoCD's repo URL) must be
reachable from ArgoCD's repo-server pods through the argocd namespace's egress policies.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlsplit  # type: ignore[no-redef]

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule, helm_value_strings
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import app_sources
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._netpol import allowed, selects

DEFAULT_PORTS = {"http": 80, "https": 443, "redis": 6379, "rediss": 6379, "postgresql": 5432, "postgres": 5432,
                 "ws": 80, "wss": 443, "grpc": 443}
_URL = re.compile(r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?:[^@/\s]*@)?(?P<host>[a-z0-9-]+\.[a-z0-9-]+\.svc(?:\.cluster\.local)?)"
                  r"(?::(?P<port>\d+))?", re.I)
REPO_PORTS = {"git": 9418, "ssh": 22, "https": 443, "http": 80}
# The pods that fetch the repositories (argo-cd chart labels).
REPO_SERVER_LABELS = {"app.kubernetes.io/name": "argocd-repo-server", "app.kubernetes.io/component": "repo-server"}
# Services every cluster has without the tree declaring them (the API server; k3s's CoreDNS).
BUILTIN_SERVICES = frozenset([("default", "kubernetes"), ("kube-system", "kube-dns")])
_HOST = re.compile(r"Host\(`([^`]+)`\)")


def urls(text):
    """(scheme, service, namespace, port or None, raw) of the in-cluster URLs in a string."""
    out = []
    for m in _URL.finditer(text or ""):
        svc, ns = m.group("host").split(".")[:2]
        port = int(m.group("port")) if m.group("port") else DEFAULT_PORTS.get((m.group("scheme") or "").lower())
        out.append((m.group("scheme"), svc, ns, port, m.group(0)))
    return out


def pod_labels(ctx, obj):
    return ((((obj.doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})


def _configmaps_read(ctx, obj):
    pod = ctx.pod_spec(obj) or {}
    names = set()
    for vol in pod.get("volumes") or []:
        if (vol or {}).get("configMap"):
            names.add(vol["configMap"].get("name"))
    for _p, c in ctx.containers(obj):
        for env in c.get("envFrom") or []:
            if (env or {}).get("configMapRef"):
                names.add(env["configMapRef"].get("name"))
    return [ctx.get("ConfigMap", obj.namespace, n) for n in sorted(n for n in names if n)]


def _service_port(svc, port):
    """(target port number or name) of a Service port, or None."""
    for item in (svc.doc.get("spec") or {}).get("ports") or []:
        if item.get("port") == port:
            return item.get("targetPort", port)
    return None


def _backends(ctx, svc):
    """Workloads the Service selects (its pods)."""
    selector = (svc.doc.get("spec") or {}).get("selector")
    if not selector:
        return []
    return [w for w in ctx.workloads() if w.namespace == svc.namespace and selects({"matchLabels": selector}, pod_labels(ctx, w))]


def _number(ctx, backend, target):
    if isinstance(target, int):
        return target, None
    for _p, c in ctx.containers(backend):
        for port in c.get("ports") or []:
            if port.get("name") == target:
                return port.get("containerPort"), target
    return None, target


class Endpoints(Rule):
    id = "endpoints"
    description = "in-cluster URLs reach a Service port the NetworkPolicies let through; every ingress host has a backend and a certificate"

    def check(self, ctx):
        unrendered = _unrendered_namespaces(ctx)
        for obj in ctx.workloads():
            sources = []
            for prefix, c in ctx.containers(obj):
                for i, env in enumerate(c.get("env") or []):
                    if isinstance(env.get("value"), str):
                        sources.append(("%s.env[%d].value" % (prefix, i), env["value"], obj))
            for cm in _configmaps_read(ctx, obj):
                if cm is not None:
                    for key, text in sorted((cm.doc.get("data") or {}).items()):
                        sources.append(("data[%s]" % key, text, cm))
            seen = set()
            for field, text, where in sources:
                for scheme, svc_name, ns, port, raw in urls(text):
                    if (raw, where.ident) in seen:
                        continue
                    seen.add((raw, where.ident))
                    yield from self._flow(ctx, obj, where, field, raw, svc_name, ns, port, unrendered)
        for name in sorted(ctx.applications):
            app = ctx.applications[name]
            for text in sorted(helm_value_strings(app.doc)):
                for scheme, svc_name, ns, port, raw in urls(text):
                    svc = ctx.get("Service", ns, svc_name)
                    if svc is None and ns not in unrendered and (ns, svc_name) not in BUILTIN_SERVICES:
                        yield app.finding(self.id, "spec.source.helm.valuesObject",
                                          "%s names Service %s/%s, which is not in the tree" % (raw, ns, svc_name))
        yield from self._ingress(ctx, unrendered)
        yield from self._repositories(ctx)

    def _repositories(self, ctx):
        """ArgoCD's repo-server reaches every git repository an Application names by address."""
        checked = set()
        for name in sorted(ctx.applications):
            app = ctx.applications[name]
            dest_ns = app.namespace or "argocd"
            for prefix, source in app_sources(app.doc):
                if source.get("chart"):
                    continue  # chart repositories: the public egress rule
                url = urlsplit(str(source.get("repoURL") or ""))
                port = url.port or REPO_PORTS.get(url.scheme)
                if not url.hostname or port is None or not _is_ip(url.hostname) or (url.hostname, port) in checked:
                    continue
                checked.add((url.hostname, port))
                ok, why = allowed(ctx, "egress", dest_ns, REPO_SERVER_LABELS, None, None, url.hostname, port)
                if not ok:
                    yield app.finding(self.id, prefix + ".repoURL",
                                      "ArgoCD's repo-server cannot reach %s:%d: %s" % (url.hostname, port, why))

    def _flow(self, ctx, src, where, field, raw, svc_name, ns, port, unrendered):
        if (ns, svc_name) in BUILTIN_SERVICES:
            return
        svc = ctx.get("Service", ns, svc_name)
        if svc is None and ns in unrendered:
            return  # a chart that was not rendered deploys there: its Services are unknown (unverified)
        if svc is None:
            yield where.finding(self.id, field, "%s: Service %s/%s is not in the tree" % (raw, ns, svc_name))
            return
        if port is None:
            return
        target = _service_port(svc, port)
        if target is None:
            ports = ", ".join(str(p.get("port")) for p in (svc.doc.get("spec") or {}).get("ports") or [])
            yield where.finding(self.id, field, "%s: %s has no port %d (ports: %s)" % (raw, svc.ident, port, ports))
            return
        labels = pod_labels(ctx, src)
        backends = _backends(ctx, svc)
        if not backends:
            addresses = [a for eps in ctx.by_kind("EndpointSlice")
                         if eps.namespace == ns and (eps.meta.get("labels") or {}).get("kubernetes.io/service-name") == svc_name
                         for e in eps.doc.get("endpoints") or [] for a in e.get("addresses") or []]
            for addr in addresses:
                number = target if isinstance(target, int) else port
                ok, why = allowed(ctx, "egress", src.namespace, labels, None, None, addr, number)
                if not ok:
                    yield where.finding(self.id, field, "%s: %s (%s) cannot reach %s port %d: %s"
                                        % (raw, src.ident, "pods " + _show(labels), addr, number, why))
            return
        for backend in backends:
            number, named = _number(ctx, backend, target)
            if number is None:
                yield where.finding(self.id, field, "%s: %s targets port %r, which %s does not declare" % (raw, svc.ident, target, backend.ident))
                continue
            dst_labels = pod_labels(ctx, backend)
            for direction, ns_a, lab_a, ns_b, lab_b in (("egress", src.namespace, labels, ns, dst_labels),
                                                        ("ingress", ns, dst_labels, src.namespace, labels)):
                ok, why = allowed(ctx, direction, ns_a, lab_a, ns_b, lab_b, None, number, named)
                if not ok:
                    yield where.finding(self.id, field, "%s: the NetworkPolicies block %s -> %s port %d (%s): %s"
                                        % (raw, src.ident, backend.ident, number, direction, why))

    def _ingress(self, ctx, unrendered):
        certs = {}
        for cert in ctx.by_kind("Certificate"):
            spec = cert.doc.get("spec") or {}
            certs[(cert.namespace, spec.get("secretName"))] = set(spec.get("dnsNames") or [])
        for route in ctx.by_kind("IngressRoute"):
            spec = route.doc.get("spec") or {}
            secret = (spec.get("tls") or {}).get("secretName")
            for i, r in enumerate(spec.get("routes") or []):
                field = "spec.routes[%d]" % i
                for host in _HOST.findall(str(r.get("match") or "")):
                    names = certs.get((route.namespace, secret))
                    if not secret or names is None:
                        yield route.finding(self.id, "spec.tls.secretName",
                                            "host %s: no Certificate of the tree issues its TLS Secret %s" % (host, secret or "(none)"))
                    elif not _covered(host, names):
                        yield route.finding(self.id, "spec.tls.secretName",
                                            "host %s is not among the dnsNames of the Certificate for %s (%s)" % (host, secret, ", ".join(sorted(names))))
                for j, backend in enumerate(r.get("services") or []):
                    if backend.get("kind", "Service") != "Service":
                        continue
                    ns = backend.get("namespace") or route.namespace
                    svc = ctx.get("Service", ns, backend.get("name"))
                    if svc is None and ns in unrendered:
                        continue  # a chart that was not rendered deploys there (unverified)
                    if svc is None:
                        yield route.finding(self.id, "%s.services[%d]" % (field, j), "backend Service %s/%s is not in the tree" % (ns, backend.get("name")))
                    elif backend.get("port") is not None and _service_port(svc, backend.get("port")) is None and not any(
                            p.get("name") == backend.get("port") for p in (svc.doc.get("spec") or {}).get("ports") or []):
                        yield route.finding(self.id, "%s.services[%d].port" % (field, j), "%s has no port %s" % (svc.ident, backend.get("port")))
        for ing in ctx.by_kind("Ingress"):
            spec = ing.doc.get("spec") or {}
            tls_hosts = set(h for t in spec.get("tls") or [] for h in t.get("hosts") or [])
            for i, rule in enumerate(spec.get("rules") or []):
                host = rule.get("host")
                if host and host not in tls_hosts:
                    yield ing.finding(self.id, "spec.rules[%d].host" % i, "host %s has no TLS entry (no certificate)" % host)
                for j, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
                    svc_ref = ((path.get("backend") or {}).get("service")) or {}
                    if svc_ref and ing.namespace not in unrendered and ctx.get("Service", ing.namespace, svc_ref.get("name")) is None:
                        yield ing.finding(self.id, "spec.rules[%d].http.paths[%d].backend.service" % (i, j),
                                          "backend Service %s/%s is not in the tree" % (ing.namespace, svc_ref.get("name")))


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _unrendered_namespaces(ctx):
    """Destination namespaces of chart Applications whose objects the context does not hold."""
    rendered = set(o.app for o in ctx.objects if o.rendered)
    out = set()
    for name, app in ctx.applications.items():
        spec = app.doc.get("spec") or {}
        sources = spec.get("sources") or [spec.get("source") or {}]
        if any((s or {}).get("chart") for s in sources) and name not in rendered:
            out.add((spec.get("destination") or {}).get("namespace"))
    return out


def _covered(host, names):
    if host in names:
        return True
    return any(n.startswith("*.") and host.endswith(n[1:]) and host.count(".") == n.count(".") for n in names)


def _show(labels):
    return ",".join("%s=%s" % kv for kv in sorted(labels.items())) or "(all)"


RULE = Endpoints()
