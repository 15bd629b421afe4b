# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ArgoCD Application status, read through the Kubernetes API (no argocd CLI, no ArgoCD API).

Uses the shared ``k8s_client.KubeClient`` (one Kubernetes client for the collection, on
``kubernetes.dynamic``: the Application kind is found through API discovery, pages of 500).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

GROUP = "argoproj.io"
VERSION = "v1alpha1"
PLURAL = "applications"
DRIFT_HEALTH = ("Degraded", "Missing")
# The tree marks the Applications that install CRDs with the API groups they serve (gitops templates).
PROVIDES_CRDS = "shai.vectorweight.com/provides-crds"
# A kind the API server does not serve, as kubectl/the API report it and as ArgoCD words it.
MISSING_KIND = (
    re.compile(r'no matches for kind "[^"]+" in version "(?P<gv>[^"]+)"'),
    re.compile(r"could not find (?P<group>[A-Za-z0-9.-]+)/[A-Za-z0-9]+ for requested resource"),
)


def summarize(obj):
    # type: (dict) -> dict
    """The fields drift cares about, from one Application object."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    operation = status.get("operationState") or {}
    sync_status = sync.get("status") or "Unknown"
    health_status = health.get("status") or "Unknown"
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    drift, unverified = classify(sync_status, health_status)
    provides = (meta.get("annotations") or {}).get(PROVIDES_CRDS) or ""
    return {
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "project": (obj.get("spec") or {}).get("project", ""),
        "sync_status": sync_status,
        "health_status": health_status,
        "health_message": health.get("message", ""),
        "revision": sync.get("revision") or "",
        "operation_phase": operation.get("phase", ""),
        "reconciled_at": status.get("reconciledAt", ""),
        "out_of_sync": sync_status == "OutOfSync",
        "drift": drift,
        "unverified": unverified,
        "unverified_reason": _first_message(conditions) or "ArgoCD has not compared it with its source"
        if unverified else "",
        "sync_error": "; ".join(str(c.get("message") or "") for c in conditions if c.get("type") == "SyncError"),
        "provides_crds": [g.strip() for g in provides.split(",") if g.strip()],
    }


def _first_message(conditions):
    # type: (list[dict]) -> str
    return next((str(c.get("message")) for c in conditions if c.get("message")), "")


def classify(sync_status, health_status):
    # type: (str, str) -> tuple[bool, bool]
    """(drift, unverified) of one Application.

    Sync ``Unknown`` means ArgoCD did not compare the Application with its source (repository or
    chart not reachable, path missing, not rendered, not reconciled yet): whether the cluster
    matches git is *unverified*, which is not drift (and is reported as such, with the reason).
    Otherwise ``OutOfSync``, ``Degraded`` or ``Missing`` is drift.
    """
    unverified = sync_status == "Unknown"
    drift = not unverified and (sync_status == "OutOfSync" or health_status in DRIFT_HEALTH)
    return drift, unverified


def resolve_dependencies(apps):
    # type: (list[dict]) -> list[dict]
    """An OutOfSync Application whose sync failed *only* because kinds are not served, where every
    such kind's API group comes from an Application that is itself unverified (annotation
    ``shai.vectorweight.com/provides-crds``), is unverified too: whether it matches git cannot be
    known before its CRDs' provider is. A missing kind whose provider is verified stays drift."""
    providers = {}
    for app in apps:
        if app.get("unverified"):
            for group in app.get("provides_crds") or []:
                providers.setdefault(group, app["name"])
    for app in apps:
        if not app.get("drift") or app.get("sync_status") != "OutOfSync" or not app.get("sync_error"):
            continue
        groups = _missing_groups(app["sync_error"])
        if groups and all(g in providers for g in groups):
            app.update(drift=False, unverified=True, unverified_reason="needs %s from %s, which %s unverified" % (
                ", ".join(sorted(groups)), ", ".join(sorted({providers[g] for g in groups})),
                "is" if len({providers[g] for g in groups}) == 1 else "are"))
    return apps


def _missing_groups(sync_error):
    # type: (str) -> set[str] | None
    """API groups of the kinds a sync error says are not served; None if it says anything else."""
    groups = set()
    for part in [p.strip() for p in sync_error.split(";") if p.strip()]:
        match = next((m for m in (r.search(part) for r in MISSING_KIND) if m), None)
        if match is None:
            return None
        found = match.groupdict()
        if "group" in found:
            groups.add(found["group"])
        else:  # apiVersion: group/version, or just the version for the core group
            groups.add(found["gv"].rsplit("/", 1)[0] if "/" in found["gv"] else "")
    return groups


def list_applications(client, namespace=None, names=None):
    # type: (object, str | None, list[str] | None) -> list[dict]
    """Every Application (optionally one namespace / some names), summarized, sorted."""
    items = client.list_objects("%s/%s" % (GROUP, VERSION), "Application", namespace=namespace)
    apps = resolve_dependencies([summarize(item) for item in items])
    if names:
        wanted = set(names)
        apps = [a for a in apps if a["name"] in wanted]
    return sorted(apps, key=lambda a: (a["namespace"], a["name"]))
