# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kyverno-pss: the Pod Security Standards the tree ships as Kyverno ClusterPolicies hold for the
tree's own workloads (and the rendered charts'), minus the PolicyExceptions the tree declares.

A pod template that an Enforce policy would reject is an error (ArgoCD's sync would fail at
admission); one that only an Audit policy flags is reported with severity "audit". A tree that
installs Kyverno (a chart Application of chart `kyverno`) without an enforced podSecurity
ClusterPolicy is an error too: Kyverno with zero policies protects nothing (ADR 0309).
Evaluated: the validate.podSecurity rules (level, failureAction, match/exclude namespaces), and
exceptions by policy, namespace, resource name (wildcards) and control (+ image for container
controls), as Kyverno does.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import app_sources
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._pss import violations

# Namespaces Kyverno never admits (chart 3.5.1 defaults: config.resourceFilters for kube-system,
# kube-public, kube-node-lease; excludeKyvernoNamespace: true for its own namespace).
KYVERNO_SKIPS = frozenset(["kube-system", "kube-public", "kube-node-lease", "kyverno"])


def _namespaces(block):
    """Namespaces a match/exclude block names ([] = any), and whether it matches Pods at all."""
    names, kinds = [], set()
    for item in (block or {}).get("any") or (block or {}).get("all") or []:
        res = (item or {}).get("resources") or {}
        names.extend(res.get("namespaces") or [])
        kinds.update(res.get("kinds") or [])
    return names, (not kinds or "Pod" in kinds)


def pss_policies(ctx):
    """[(policy, rule name, level, action, namespaces or [], excluded namespaces)]."""
    out = []
    for policy in ctx.by_kind("ClusterPolicy"):
        spec = policy.doc.get("spec") or {}
        for rule in spec.get("rules") or []:
            validate = rule.get("validate") or {}
            pss = validate.get("podSecurity")
            if not isinstance(pss, dict):
                continue
            action = validate.get("failureAction") or spec.get("validationFailureAction") or "Audit"
            names, pods = _namespaces(rule.get("match"))
            excluded = _namespaces(rule.get("exclude"))[0]
            if pods:
                out.append((policy, rule.get("name"), pss.get("level", "baseline"), str(action).capitalize(), names, excluded))
    return out


def _exceptions(ctx):
    out = []
    for exc in ctx.by_kind("PolicyException"):
        spec = exc.doc.get("spec") or {}
        policies = set((e or {}).get("policyName") for e in spec.get("exceptions") or [])
        matches = []
        for item in (spec.get("match") or {}).get("any") or (spec.get("match") or {}).get("all") or []:
            res = (item or {}).get("resources") or {}
            matches.append((res.get("namespaces") or [], res.get("names") or []))
        controls = [(c.get("controlName"), c.get("images")) for c in spec.get("podSecurity") or [] if isinstance(c, dict)]
        out.append((exc, policies, matches, controls))
    return out


def _excepted(exceptions, policy, obj, control, image):
    for _exc, policies, matches, controls in exceptions:
        if policy not in policies:
            continue
        if not any((not nss or obj.namespace in nss) and (not names or any(fnmatch.fnmatchcase(str(obj.name), n) for n in names))
                   for nss, names in matches):
            continue
        for name, images in controls:
            if name != control:
                continue
            if image is None or any(fnmatch.fnmatchcase(image, p) for p in images or []):
                return True
    return False


class KyvernoPss(Rule):
    id = "kyverno-pss"
    description = "workloads pass the Kyverno Pod Security policies of the tree (enforced: error, audit: reported)"

    def check(self, ctx):
        policies = pss_policies(ctx)
        installs = [app for app in ctx.applications.values() if any(s.get("chart") == "kyverno" for _p, s in app_sources(app.doc))]
        if installs and not any(p[3] == "Enforce" for p in policies):
            app = installs[0]
            yield app.finding(self.id, "spec.source.chart",
                              "Kyverno is installed but the tree ships no enforced podSecurity ClusterPolicy "
                              "(baseline Enforce everywhere, restricted Audit: ADR 0309)")
        if not policies:
            return
        exceptions = _exceptions(ctx)
        for obj in ctx.workloads():
            pod = ctx.pod_spec(obj)
            if pod is None:
                continue
            base = ctx.pod_spec_path(obj)
            seen = set()
            for policy, rule, level, action, nss, excluded in policies:
                if (nss and obj.namespace not in nss) or obj.namespace in excluded or obj.namespace in KYVERNO_SKIPS:
                    continue
                for control, image, field, message in violations(pod, level):
                    if _excepted(exceptions, policy.name, obj, control, image) or (field, control) in seen:
                        continue
                    seen.add((field, control))
                    severity = "error" if action == "Enforce" else "audit"
                    yield obj.finding(self.id, "%s.%s" % (base, field),
                                      "%s: %s (%s %s, ClusterPolicy %s rule %s; add a documented PolicyException "
                                      "to gitops_kyverno_exceptions if it must)"
                                      % (control, message, level, action, policy.name, rule), severity)


RULE = KyvernoPss()
