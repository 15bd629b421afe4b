# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""resources: every container of a workload requests and limits cpu and memory."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule


class Resources(Rule):
    id = "resources"
    description = "every container has cpu and memory requests and limits"

    def check(self, ctx):
        for obj in ctx.workloads():
            for prefix, container in ctx.containers(obj):
                resources = container.get("resources") or {}
                for section in ("requests", "limits"):
                    for res in ("cpu", "memory"):
                        if not (resources.get(section) or {}).get(res):
                            yield obj.finding(
                                self.id,
                                "%s.resources.%s.%s" % (prefix, section, res),
                                "container %s has no %s %s" % (container.get("name", "?"), res, section[:-1]),
                            )


RULE = Resources()
