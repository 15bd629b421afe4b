# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""secrets-sealed: a tree that reads Secrets but carries no SealedSecret is a finding, not a pass:
secret-refs has nothing to check against and the workloads would not start. Validate the tree
with its SealedSecrets (`shai-secrets seal` writes them into gitops/secrets), or a scratch copy
with generated ones. The playbook's render step (gitops_render) reports this one as a warning:
on a first run (and in the lab) the tree is rendered before anything is sealed."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Finding, Rule
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules.secret_refs import secret_refs


class SecretsSealed(Rule):
    id = "secrets-sealed"
    description = "a tree whose workloads read Secrets carries SealedSecrets"

    def check(self, ctx):
        if ctx.by_kind("SealedSecret"):
            return
        readers = sorted(set(o.ident for o in ctx.workloads() for _p, c in ctx.containers(o) if secret_refs(c)))
        if not readers:
            return
        message = ("the tree carries no SealedSecret, but %d workload(s) read Secrets (%s%s): nothing proves those "
                   "Secrets exist (seal the catalog: shai-secrets seal; or validate a copy with generated "
                   "SealedSecrets)" % (len(readers), ", ".join(readers[:3]), ", ..." if len(readers) > 3 else ""))
        app = ctx.applications.get("sealed-secrets-data")
        if app is not None:
            yield app.finding(self.id, "spec.source.path", message)
        else:
            yield Finding(self.id, "secrets/", "(tree)", "", message)


RULE = SecretsSealed()
