# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""limit-range: every container passes its namespace's LimitRange as admission applies it: after
defaulting (a container without a limit gets the default limit, without a request the default
request, or its limit), the request may not exceed the limit, and both stay within min/max.

The class of defect: GitLab's webservice requested more memory than the gitlab namespace's
default limit (2Gi); a container without an explicit limit got that default, its request then
exceeded its limit, and admission rejected the pod. Also a request below the LimitRange's min
(a 16Mi init container under a 32Mi minimum) is rejected the same way.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._quantity import container_ranges, parse, show


class LimitRange(Rule):
    id = "limit-range"
    description = "every container's requests and limits pass its namespace's LimitRange after defaulting"

    def check(self, ctx):
        ranges = container_ranges(ctx)
        for obj in ctx.workloads():
            if obj.namespace not in ranges:
                continue
            lr, r = ranges[obj.namespace]
            for prefix, container in ctx.containers(obj):
                res = container.get("resources") or {}
                name = container.get("name", "?")
                for kind in ("cpu", "memory"):
                    limit = parse((res.get("limits") or {}).get(kind))
                    explicit_limit = limit is not None
                    if limit is None:
                        limit = r["default"].get(kind)
                    request = parse((res.get("requests") or {}).get(kind))
                    if request is None:
                        request = parse((res.get("limits") or {}).get(kind)) or r["defaultRequest"].get(kind)
                    field = "%s.resources" % prefix
                    if request is not None and limit is not None and request > limit:
                        yield obj.finding(self.id, field + ".requests." + kind,
                                          "container %s requests %s %s over its %slimit %s (%s): admission rejects the pod"
                                          % (name, show(kind, request), kind, "" if explicit_limit else "default ",
                                             show(kind, limit), lr.ident if not explicit_limit else "explicit"))
                    low = r["min"].get(kind)
                    if low is not None and request is not None and request < low:
                        yield obj.finding(self.id, field + ".requests." + kind,
                                          "container %s requests %s %s, below the minimum %s of %s"
                                          % (name, show(kind, request), kind, show(kind, low), lr.ident))
                    high = r["max"].get(kind)
                    if high is not None and limit is not None and limit > high:
                        yield obj.finding(self.id, field + ".limits." + kind,
                                          "container %s limit %s %s is over the maximum %s of %s"
                                          % (name, show(kind, limit), kind, show(kind, high), lr.ident))


RULE = LimitRange()
