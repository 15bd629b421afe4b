# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ArgoCD Application status, read through the Kubernetes API (no argocd CLI, no ArgoCD API).

Uses the shared ``k8s_client.KubeClient`` (one Kubernetes client for the collection, on
``kubernetes.dynamic``: the Application kind is found through API discovery, pages of 500).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

GROUP = "argoproj.io"
VERSION = "v1alpha1"
PLURAL = "applications"
DRIFT_HEALTH = ("Degraded", "Missing")


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
        "drift": sync_status == "OutOfSync" or health_status in DRIFT_HEALTH,
    }


def list_applications(client, namespace=None, names=None):
    # type: (object, str | None, list[str] | None) -> list[dict]
    """Every Application (optionally one namespace / some names), summarized, sorted."""
    items = client.list_objects("%s/%s" % (GROUP, VERSION), "Application", namespace=namespace)
    apps = [summarize(item) for item in items]
    if names:
        wanted = set(names)
        apps = [a for a in apps if a["name"] in wanted]
    return sorted(apps, key=lambda a: (a["namespace"], a["name"]))
