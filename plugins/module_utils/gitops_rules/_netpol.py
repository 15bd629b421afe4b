# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkPolicy semantics for the endpoints rule: does the tree's policy set let pods with these
labels in namespace A open a TCP connection to pods with those labels (or an address) in B on
port P? Kubernetes semantics: a pod is isolated for a direction when a policy of its namespace
selects it with that policyType; then some rule of such a policy must allow the peer and port.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress


def selects(selector, labels):
    """A LabelSelector (matchLabels + matchExpressions) against a label dict; {} selects all."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def namespace_labels(ctx):
    out = {}
    for ns in ctx.by_kind("Namespace"):
        labels = dict(ns.meta.get("labels") or {})
        labels["kubernetes.io/metadata.name"] = ns.name
        out[ns.name] = labels
    return out


def _port_ok(rule, port, named):
    ports = rule.get("ports")
    if not ports:
        return True
    for item in ports:
        if (item.get("protocol") or "TCP") != "TCP":
            continue
        want = item.get("port")
        if want is None or want == port or (named and want == named):
            return True
        end = item.get("endPort")
        if isinstance(want, int) and isinstance(end, int) and want <= port <= end:
            return True
    return False


def _peer_ok(peer, peer_ns, peer_labels, peer_ip, own_ns, ns_labels):
    if "ipBlock" in peer:
        if peer_ip is None:
            return False
        block = peer["ipBlock"]
        try:
            addr = ipaddress.ip_address(peer_ip)
            if addr not in ipaddress.ip_network(block.get("cidr"), strict=False):
                return False
            return not any(addr in ipaddress.ip_network(c, strict=False) for c in block.get("except") or [])
        except ValueError:
            return False
    if peer_ns is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], ns_labels.get(peer_ns, {"kubernetes.io/metadata.name": peer_ns})):
            return False
    elif peer_ns != own_ns:
        return False
    if "podSelector" in peer:
        return selects(peer["podSelector"], peer_labels or {})
    return True


def allowed(ctx, direction, ns, labels, peer_ns, peer_labels, peer_ip, port, named=None):
    """(True, None) when policies let pods (ns, labels) send (egress) / receive (ingress) this flow;
    (False, why) otherwise."""
    kind = "Egress" if direction == "egress" else "Ingress"
    key = "egress" if direction == "egress" else "ingress"
    peer_key = "to" if direction == "egress" else "from"
    ns_labels = namespace_labels(ctx)
    isolating = []
    for pol in ctx.by_kind("NetworkPolicy"):
        if pol.namespace != ns:
            continue
        spec = pol.doc.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
        if kind not in types or not selects(spec.get("podSelector") or {}, labels):
            continue
        isolating.append(pol)
        for rule in spec.get(key) or []:
            peers = rule.get(peer_key)
            if not _port_ok(rule, port, named):
                continue
            if not peers or any(_peer_ok(p, peer_ns, peer_labels, peer_ip, ns, ns_labels) for p in peers):
                return True, None
    if not isolating:
        return True, None
    return False, "no %s rule of the NetworkPolicies of %s (%s) allows it" % (
        key, ns, ", ".join(sorted(p.name for p in isolating)))
