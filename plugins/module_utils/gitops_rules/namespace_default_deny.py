# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""namespace-default-deny: every declared namespace has the default-deny NetworkPolicy that its
allow-policies add to (podSelector {}, policyTypes [Ingress, Egress], no rules)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import NamespaceHas


def is_default_deny(doc):
    """A NetworkPolicy that selects every pod and isolates both directions, allowing nothing."""
    spec = doc.get("spec") or {}
    selector = spec.get("podSelector")
    if not isinstance(selector, dict) or any(selector.get(k) for k in ("matchLabels", "matchExpressions")):
        return False
    types = set(spec.get("policyTypes") or [])
    return {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress")


RULE = NamespaceHas(
    "namespace-default-deny",
    "NetworkPolicy",
    "namespace %(name)s has no default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules)",
    is_default_deny,
)
