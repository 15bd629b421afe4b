# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""resources: every container of a workload requests and limits cpu and memory.

The tree's own workloads must say so themselves. A container a chart renders may leave a value
to its namespace's LimitRange (`default` / `defaultRequest` of type Container): admission fills
it in, and some charts offer no value for it (longhorn 1.9.1's manager, driver, UI and hook
Jobs; linkerd-viz's namespace-metadata Job). Without such a default it is a finding too.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule

LIMITRANGE_KEY = {"requests": "defaultRequest", "limits": "default"}


def limitrange_defaults(ctx):
    """{namespace: {"requests": {resource...}, "limits": {resource...}}} the LimitRanges fill in."""
    out = {}
    for lr in ctx.by_kind("LimitRange"):
        entry = out.setdefault(lr.namespace, {"requests": set(), "limits": set()})
        for limit in (lr.doc.get("spec") or {}).get("limits") or []:
            if isinstance(limit, dict) and limit.get("type", "Container") == "Container":
                for section, key in LIMITRANGE_KEY.items():
                    entry[section] |= set(limit.get(key) or {})
    return out


class Resources(Rule):
    id = "resources"
    description = "every container has cpu and memory requests and limits (charts: or a LimitRange default)"

    def check(self, ctx):
        defaults = limitrange_defaults(ctx)
        for obj in ctx.workloads():
            filled = defaults.get(obj.namespace, {}) if obj.rendered else {}
            for prefix, container in ctx.containers(obj):
                resources = container.get("resources") or {}
                for section in ("requests", "limits"):
                    for res in ("cpu", "memory"):
                        if (resources.get(section) or {}).get(res) or res in filled.get(section, ()):
                            continue
                        message = "container %s has no %s %s" % (container.get("name", "?"), res, section[:-1])
                        if obj.rendered:
                            message += " and namespace %s's LimitRange gives no default" % obj.namespace
                        yield obj.finding(self.id, "%s.resources.%s.%s" % (prefix, section, res), message)


RULE = Resources()
