# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""duplicate-object: one object (API group, kind, namespace, name) is declared once. Two
declarations fight over the object (ArgoCD: SharedResourceWarning, the last apply wins)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule, group_version


class DuplicateObjects(Rule):
    id = "duplicate-object"
    description = "no object is declared twice (same API group, kind, namespace and name)"

    def check(self, ctx):
        seen = {}
        for obj in ctx.objects:
            if not (obj.kind and obj.name and obj.api_version):
                continue
            key = (group_version(obj.api_version)[0], obj.kind, obj.namespace or "", obj.name)
            first = seen.setdefault(key, obj)
            if first is not obj:
                where = first.file + (" (Application %s)" % first.app if first.app and first.app != obj.app else "")
                yield obj.finding(self.id, "metadata.name", "also declared in %s" % where)


RULE = DuplicateObjects()
