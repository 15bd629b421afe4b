# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unknown keys in the GitOps values are errors that name the key and suggest the known one
(issue 14): a typo (`gitops_repo_ulr:`, `wavee:`) or a component that is not in the catalog
(`traefick: {enabled: true}`) would otherwise render an Application for a path that does not
exist, or silently keep the default.

Known = what gitops/values.yml defines (its top-level variables, the components of
gitops_components, the workloads of gitops_workloads/gitops_hpa/gitops_run_as, ...), the item
keys in ITEM_KEYS, and PLAYBOOK_VARS: inventory variables the playbooks and roles read (not the
tree's templates). Namespaces may be added (gitops_namespaces), their keys are checked.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import difflib
import ipaddress

# gitops_* inventory variables read by playbooks/roles, not by the templates.
PLAYBOOK_VARS = frozenset([
    "gitops_tree_dir",
    "gitops_seed_url",
    "gitops_seed_ssh_command",
    "gitops_argocd_bootstrap",
    "gitops_git_server_enabled",
    "gitops_charts_dir",
    "gitops_helm",
])
# dict-of-dicts values: the keys every item may have.
ITEM_KEYS = {
    "gitops_components": frozenset(["enabled", "wave", "namespace"]),
    "gitops_namespaces": frozenset(["mesh", "quota", "network", "labels"]),
    "gitops_charts": frozenset(["repo", "chart", "version", "crds", "oci"]),
    "gitops_workloads": frozenset(["requests", "limits", "storage", "cache"]),
    "gitops_hpa": frozenset(["min", "max", "cpu", "memory", "scale_up_pods"]),
    "gitops_litellm_targets": frozenset(["service", "component", "port", "suffix", "per_gpu_host"]),
    "gitops_litellm_groups": frozenset(["mode"]),
    "gitops_kyverno_exceptions": frozenset(["why", "namespaces", "mesh_namespaces", "names", "controls", "images"]),
}
NETWORK_KEYS = frozenset([
    "from", "to", "kube_api", "from_nodes", "to_nodes", "from_world", "public", "git", "ingress_address",
    "gpu", "node_clients", "isolated", "backup_target",
])
# dict-of-dicts whose item NAMES are fixed by the templates (a new name would be ignored or break).
FIXED_NAMES = ("gitops_components", "gitops_workloads", "gitops_hpa", "gitops_run_as", "gitops_charts",
               "gitops_secret_refs", "gitops_images", "gitops_litellm_targets")


def _hint(key, known):
    close = difflib.get_close_matches(str(key), sorted(str(k) for k in known), n=1, cutoff=0.6)
    return " (did you mean %r?)" % close[0] if close else ""


def _unknown(where, keys, known, what="key"):
    errors = []
    for key in sorted(set(keys) - set(known), key=str):
        errors.append("%s: unknown %s %r%s" % (where, what, key, _hint(key, known)))
    return errors


def check_values(defaults, overrides):
    """Every problem at once: a list of messages (empty: all keys known)."""
    errors = []
    overrides = overrides or {}
    top = set(defaults) | PLAYBOOK_VARS
    errors.extend(_unknown("inventory", [k for k in overrides if str(k).startswith("gitops_")], top, "GitOps variable"))
    for var in FIXED_NAMES:
        given = overrides.get(var)
        if isinstance(given, dict) and isinstance(defaults.get(var), dict):
            errors.extend(_unknown(var, given, defaults[var], "name"))
    for var, allowed in sorted(ITEM_KEYS.items()):
        merged = dict(defaults.get(var) or {})
        if isinstance(overrides.get(var), dict):
            merged.update(overrides[var])
        for name, item in sorted(merged.items(), key=lambda kv: str(kv[0])):
            if isinstance(item, dict):
                errors.extend(_unknown("%s.%s" % (var, name), item, allowed))
                if var == "gitops_namespaces" and isinstance(item.get("network"), dict):
                    errors.extend(_unknown("%s.%s.network" % (var, name), item["network"], NETWORK_KEYS))
    errors.extend(_longhorn_backup(defaults, overrides))
    return errors


LONGHORN_TARGET_SCHEMES = ("nfs://", "s3://", "cifs://", "azblob://")
LONGHORN_JOB_KEYS = frozenset(["task", "cron", "retain", "concurrency"])


def _longhorn_backup(defaults, overrides):
    """gitops_longhorn_backup (docs/backup.md): known keys, a target Longhorn understands, the
    credentials Secret its scheme needs, five-field crons."""
    merged = dict(defaults.get("gitops_longhorn_backup") or {})
    given = overrides.get("gitops_longhorn_backup")
    if not isinstance(given, dict):
        return []
    merged.update(given)
    errors = _unknown("gitops_longhorn_backup", given, defaults.get("gitops_longhorn_backup") or {}, "key")
    target = str(merged.get("target") or "")
    if target and not target.startswith(LONGHORN_TARGET_SCHEMES):
        errors.append("gitops_longhorn_backup.target %r: Longhorn backup targets start with %s"
                      % (target, ", ".join(LONGHORN_TARGET_SCHEMES)))
    if target and not target.startswith("nfs://") and not merged.get("credential_secret"):
        errors.append("gitops_longhorn_backup.target %r needs credential_secret (a sealed Secret of the catalog in "
                      "longhorn-system with the store's keys)" % target)
    egress = merged.get("egress") or []
    if target and not egress:
        errors.append("gitops_longhorn_backup.target %r needs egress ([{cidr, ports}] where the target is): "
                      "longhorn-system allows no other egress" % target)
    for i, rule in enumerate(egress if isinstance(egress, list) else [egress]):
        if not isinstance(rule, dict) or set(rule) != {"cidr", "ports"} or not rule.get("ports"):
            errors.append("gitops_longhorn_backup.egress[%d] %r: {cidr: ADDRESS/PREFIX, ports: [PORT, ...]}" % (i, rule))
            continue
        try:
            ipaddress.ip_network(str(rule["cidr"]), strict=False)
        except ValueError:
            errors.append("gitops_longhorn_backup.egress[%d].cidr %r is not an address/prefix" % (i, rule["cidr"]))
    for name, job in sorted((merged.get("jobs") or {}).items()):
        if not isinstance(job, dict):
            continue
        errors.extend(_unknown("gitops_longhorn_backup.jobs.%s" % name, job, LONGHORN_JOB_KEYS, "key"))
        if len(str(job.get("cron", "")).split()) != 5:
            errors.append("gitops_longhorn_backup.jobs.%s.cron %r: five cron fields" % (name, job.get("cron")))
    return errors
