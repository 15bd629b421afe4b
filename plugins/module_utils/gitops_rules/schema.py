# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""schema: every object against its schema, strictly (unknown fields are errors, not pruned).

Core kinds: the Kubernetes JSON schemas of kubernetes-validate for ctx.kube_version (findings
schema). Custom resources: the openAPIV3Schema of the CRDs in ctx.crd_dir (gitops/crds) and of
the CRDs the charts render (findings crd-schema). An API group nobody defines is a finding.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import BUILTIN_GROUPS, Rule, group_version, json_path
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._schemas import crd_schemas, schemas


class SchemaRule(Rule):
    id = "schema"
    description = "every object is valid against its strict core or CRD schema"

    def check(self, ctx):
        core, crds = schemas(ctx.crd_dir, ctx.kube_version)
        extra = {}
        for obj in ctx.by_kind("CustomResourceDefinition"):
            if obj.rendered:
                extra.update(crd_schemas(obj.doc))
        crds = crds.with_extra(extra)
        for obj in ctx.objects:
            yield from self._object(obj, core, crds)

    def _object(self, obj, core, crds):
        doc = obj.doc
        out = []
        for key in ("apiVersion", "kind"):
            if not isinstance(doc.get(key), str) or not doc.get(key):
                out.append(obj.finding("schema", key, "missing or not a string"))
        if not obj.name:
            out.append(obj.finding("schema", "metadata.name", "missing"))
        if out:
            return out
        group, version = group_version(doc["apiVersion"])
        kind = doc["kind"]
        where = "the chart's CRDs or gitops/crds" if obj.rendered else "gitops/crds"
        if (group, version, kind) in crds.schemas:
            validator = crds.validator((group, version, kind))
            try:
                errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
            except re.error as exc:  # RE2-only pattern in the CRD (gitops/crds/README.md)
                return [obj.finding("crd-schema", "", "CRD schema pattern not checkable in Python: %s" % exc)]
            return [obj.finding("crd-schema", json_path(e.absolute_path), e.message) for e in errors]
        if group in BUILTIN_GROUPS:
            validator = core.validator(doc["apiVersion"], kind)
            if validator is None:
                return [obj.finding("schema", "apiVersion", "no Kubernetes %s schema for %s %s" % (core.version, doc["apiVersion"], kind))]
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
            return [obj.finding("schema", json_path(e.absolute_path), e.message) for e in errors]
        if crds.known_group(group):
            return [obj.finding("crd-schema", "apiVersion", "%s/%s %s is not served by the CRDs in %s" % (group, version, kind, where))]
        return [obj.finding("crd-schema", "apiVersion", "no schema for API group %r (add its CRD to gitops/crds)" % group)]


RULE = SchemaRule()
