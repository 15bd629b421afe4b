# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of `shai gitops validate`: one module per rule, this registry, run().

Adding a check = one module here defining ``RULE = SomeRule()`` (see _base.py for Obj, Finding,
Context, Rule), one explicit import + entry in RULES below, and its fixtures test in
tests/gitops/rules/test_<rule>.py. The imports are explicit on purpose: AnsiballZ only ships the
module_utils it can see imported.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import (  # noqa: F401
    Context,
    Finding,
    Obj,
    Rule,
)
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import (
    build_context,
    load_tree_objects,
    tree_objs,
)

# --- core checks ---
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import schema
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import duplicate_objects
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import no_plaintext_secret
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import pinned_images
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import resources
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import namespace_quota
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import namespace_limitrange
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import namespace_default_deny
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import sync_policy
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import namespaces
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import pinned_charts
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import waves
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import secret_refs

RULES = [
    schema.RULE,
    duplicate_objects.RULE,
    no_plaintext_secret.RULE,
    pinned_images.RULE,
    resources.RULE,
    namespace_quota.RULE,
    namespace_limitrange.RULE,
    namespace_default_deny.RULE,
    sync_policy.RULE,
    namespaces.RULE,
    pinned_charts.RULE,
    waves.RULE,
    secret_refs.RULE,
]
# --- end core checks ---

# --- wiring checks (issue 13 §3) ---
# (append: `from ...gitops_rules import <module>` and `RULES.append(<module>.RULE)`)
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import models
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import run_as_non_root
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import privacy
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import storage_scaling
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import quota_at_max
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import kyverno_pss
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import secrets_sealed
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import endpoints
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import limit_range

RULES.extend([models.RULE, run_as_non_root.RULE, privacy.RULE, storage_scaling.RULE, quota_at_max.RULE, kyverno_pss.RULE,
              secrets_sealed.RULE, endpoints.RULE, limit_range.RULE])
# --- end wiring checks ---


def rule_ids():
    return [rule.id for rule in RULES]


def run(ctx, select=None):
    """Every Finding of the rules (all, or the ids in `select`), in registry order."""
    if select is not None:
        unknown = sorted(set(select) - set(rule_ids()))
        if unknown:
            raise GitopsError("unknown rule(s) %s (known: %s)" % (", ".join(unknown), ", ".join(rule_ids())))
    findings = []
    for rule in RULES:
        if select is None or rule.id in select:
            findings.extend(rule.check(ctx))
    return findings


def failures(findings):
    """The findings that fail validation (severity "error"; "audit" ones are only reported)."""
    return [f for f in findings if f.severity == "error"]


def validate_tree(tree_dir, crd_dir, kube_version, extra=None, unverified=None, select=None):
    """Validate a rendered tree (+ `extra` Objs, e.g. what Helm rendered from its chart
    Applications). Returns (object count, [Finding]): parse findings first, then the rules'."""
    import os

    if not os.path.isdir(str(tree_dir)):
        raise GitopsError("%s is not a directory" % tree_dir)
    pairs, findings = load_tree_objects(str(tree_dir))
    objs = tree_objs(pairs) + list(extra or [])
    ctx = build_context(objs, kube_version, crd_dir, unverified)
    findings.extend(run(ctx, select))
    return len(objs), findings
