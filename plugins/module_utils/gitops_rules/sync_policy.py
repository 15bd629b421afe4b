# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sync-policy: every Application declares CreateNamespace=false and a retry limit; the root
Application never auto-prunes."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule

ROOT_LABEL = "shai.vectorweight.com/root"


class SyncPolicy(Rule):
    id = "sync-policy"
    description = "Applications: CreateNamespace=false, a retry limit, no auto-prune on the root"

    def check(self, ctx):
        for app in ctx.applications.values():
            spec = app.doc.get("spec") or {}
            sync = spec.get("syncPolicy") or {}
            if "CreateNamespace=false" not in (sync.get("syncOptions") or []):
                yield app.finding(self.id, "spec.syncPolicy.syncOptions", "must contain CreateNamespace=false (namespaces are declared)")
            if not (sync.get("retry") or {}).get("limit"):
                yield app.finding(self.id, "spec.syncPolicy.retry.limit", "no retry policy")
            is_root = (app.meta.get("labels") or {}).get(ROOT_LABEL) == "true"
            if is_root and (sync.get("automated") or {}).get("prune"):
                yield app.finding(self.id, "spec.syncPolicy.automated.prune", "the root Application must never auto-prune")


RULE = SyncPolicy()
