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
COMPARISON_ERROR = "ComparisonError"


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
    error = comparison_error(status)
    drift, unverified = classify(sync_status, health_status, error)
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
        "comparison_error": error,
    }


def comparison_error(status):
    # type: (dict) -> str
    """The message of the Application's ComparisonError condition ('' when there is none)."""
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == COMPARISON_ERROR:
            return str(cond.get("message") or COMPARISON_ERROR)
    return ""


def classify(sync_status, health_status, error=""):
    # type: (str, str, str) -> tuple[bool, bool]
    """(drift, unverified) of one Application.

    ArgoCD could not compare the Application with its source (sync ``Unknown`` with a
    ``ComparisonError`` condition: repository or chart not reachable, path missing): whether the
    cluster matches git is *unverified*, which is not drift (and is reported as such). Otherwise
    ``OutOfSync``, ``Degraded`` or ``Missing`` is drift.
    """
    unverified = sync_status == "Unknown" and bool(error)
    drift = not unverified and (sync_status == "OutOfSync" or health_status in DRIFT_HEALTH)
    return drift, unverified


def list_applications(client, namespace=None, names=None):
    # type: (object, str | None, list[str] | None) -> list[dict]
    """Every Application (optionally one namespace / some names), summarized, sorted."""
    items = client.list_objects("%s/%s" % (GROUP, VERSION), "Application", namespace=namespace)
    apps = [summarize(item) for item in items]
    if names:
        wanted = set(names)
        apps = [a for a in apps if a["name"] in wanted]
    return sorted(apps, key=lambda a: (a["namespace"], a["name"]))
