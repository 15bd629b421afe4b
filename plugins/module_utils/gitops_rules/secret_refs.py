# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""secret-refs: once the tree carries SealedSecrets, every Secret a workload reads is one of them,
in the workload's namespace, with the key it reads (catches namespace/key mismatches between the
templates and the secrets catalog before the pods crash-loop).

(Issue 13 §3 extends this rule: rendered objects, existingSecret-style values, volumes, chart-created
Secrets, consumers of every catalog entry.)
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule


def secret_refs(container):
    """(field suffix, secret name, key or None) of every Secret a container reads."""
    refs = []
    for i, env in enumerate(container.get("env") or []):
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if ref and not ref.get("optional"):
            refs.append(("env[%d].valueFrom.secretKeyRef" % i, ref.get("name"), ref.get("key")))
    for i, env in enumerate(container.get("envFrom") or []):
        ref = env.get("secretRef")
        if ref and not ref.get("optional"):
            refs.append(("envFrom[%d].secretRef" % i, ref.get("name"), None))
    return refs


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


class SecretRefs(Rule):
    id = "secret-refs"
    description = "every Secret a workload reads is a SealedSecret of its namespace with that key"

    def check(self, ctx):
        sealed = sealed_secrets(ctx)
        if not sealed:
            return
        for obj in ctx.workloads():
            if obj.rendered:
                continue
            ns = obj.namespace
            for prefix, container in ctx.containers(obj):
                for suffix, name, key in secret_refs(container):
                    field = "%s.%s" % (prefix, suffix)
                    if (ns, name) not in sealed:
                        elsewhere = sorted(n for n, s in sealed if s == name)
                        hint = " (sealed in namespace %s)" % ", ".join(elsewhere) if elsewhere else ""
                        yield obj.finding(self.id, field, "reads Secret %s/%s, which is not a SealedSecret of the tree%s" % (ns, name, hint))
                    elif key and key not in sealed[(ns, name)]:
                        yield obj.finding(
                            self.id, field,
                            "Secret %s/%s has no key %r (keys: %s)" % (ns, name, key, ", ".join(sorted(sealed[(ns, name)]))),
                        )


RULE = SecretRefs()
