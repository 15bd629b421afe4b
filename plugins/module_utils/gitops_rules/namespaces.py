# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""namespaces: every Application's destination namespace is declared by the tree
(CreateNamespace=false: ArgoCD will not create it)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import SYSTEM_NAMESPACES, Rule, declared_namespaces


class Namespaces(Rule):
    id = "namespaces"
    description = "every Application's destination namespace is declared by the tree"

    def check(self, ctx):
        declared = declared_namespaces(ctx)
        for app in ctx.applications.values():
            dest = ((app.doc.get("spec") or {}).get("destination") or {}).get("namespace")
            if dest and dest not in declared and dest not in SYSTEM_NAMESPACES:
                yield app.finding(
                    self.id, "spec.destination.namespace",
                    "namespace %r is not declared by the tree (CreateNamespace=false)" % dest,
                )


RULE = Namespaces()
