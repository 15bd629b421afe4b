# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pinned-charts: every chart source names an exact version (never latest, a range or a branch)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import app_sources

UNPINNED_CHART = re.compile(r"^(|\*|latest|HEAD|master|main|stable)$|[*x^~<>|]|\|\|")


class PinnedCharts(Rule):
    id = "pinned-charts"
    description = "every chart source is pinned to an exact version"

    def check(self, ctx):
        for app in ctx.applications.values():
            for prefix, source in app_sources(app.doc):
                rev = str(source.get("targetRevision", ""))
                if source.get("chart") and UNPINNED_CHART.search(rev):
                    yield app.finding(
                        self.id, prefix + ".targetRevision",
                        "chart %s version %r is not pinned (exact version, never latest/ranges)" % (source["chart"], rev),
                    )


RULE = PinnedCharts()
