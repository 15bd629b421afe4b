# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""waves: nothing uses a custom resource before (or in) the sync wave of the Application that
installs its CRDs.

Who installs an API group: an Application annotated shai.vectorweight.com/provides-crds, or one
whose chart renders the group's CustomResourceDefinition. An object of a chart that renders its
own CRDs is fine in the same Application (ArgoCD applies the CRDs of a sync first). ArgoCD's own
group (argoproj.io) is installed by the bootstrap, before any wave.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import (
    BUILTIN_GROUPS,
    PROVIDES_ANNOTATION,
    WAVE_ANNOTATION,
    Rule,
    group_version,
)
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import app_wave


class Waves(Rule):
    id = "waves"
    description = "custom resources are used only in a later wave than the Application installing their CRDs"

    def check(self, ctx):
        waves = {}
        providers = {}
        for name, app in ctx.applications.items():
            wave = app_wave(app.doc)
            if wave is None:
                yield app.finding(self.id, "metadata.annotations[%s]" % WAVE_ANNOTATION, "not an integer")
                continue
            waves[name] = wave
            for group in str((app.meta.get("annotations") or {}).get(PROVIDES_ANNOTATION, "")).split(","):
                if group.strip():
                    providers.setdefault(group.strip(), (wave, name))
        own_crds = set()
        for crd in ctx.by_kind("CustomResourceDefinition"):
            group = (crd.doc.get("spec") or {}).get("group")
            if crd.app in waves and group:
                own_crds.add((crd.app, group))
                current = providers.get(group)
                if current is None or waves[crd.app] < current[0]:
                    providers[group] = (waves[crd.app], crd.app)
        for obj in ctx.objects:
            if obj.app not in waves or not obj.api_version:
                continue
            group = group_version(obj.api_version)[0]
            if group in BUILTIN_GROUPS or group == "argoproj.io" or (obj.app, group) in own_crds:
                continue
            provider = providers.get(group)
            if provider is None:
                yield obj.finding(self.id, "apiVersion", "API group %s is installed by no Application (add it to a chart's crds)" % group)
            elif provider[0] >= waves[obj.app]:
                yield obj.finding(
                    self.id, "apiVersion",
                    "uses %s (installed by %s at wave %d) from Application %s at wave %d: must be a later wave"
                    % (group, provider[1], provider[0], obj.app, waves[obj.app]),
                )


RULE = Waves()
