# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus textfile metrics (node_exporter textfile collector format) for drift runs.

Controller-side only. ``render_metrics`` turns a drift report into the exposition text;
``write_metrics`` writes it atomically as ``<dir>/shai_drift.prom``.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os

from ansible_collections.vectorweight.shai.plugins.module_utils.drift_report import write_atomic

METRICS_FILE = "shai_drift.prom"


def _escape(value):
    # type: (object) -> str
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels):
    # type: (**object) -> str
    if not labels:
        return ""
    return "{" + ",".join('%s="%s"' % (k, _escape(v)) for k, v in sorted(labels.items())) + "}"


def _num(value):
    # type: (float) -> str
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render_metrics(report):
    # type: (dict) -> str
    """The exposition text for one drift report.

    Every (host, role) the run touched gets a ``shai_drift_changed_tasks`` sample, zero when clean,
    so alerts resolve on the next clean run.
    """
    out = []

    def family(name, kind, help_text, samples):
        # type: (str, str, str, list) -> None
        out.append("# HELP %s %s" % (name, help_text))
        out.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            out.append("%s%s %s" % (name, _labels(**labels), _num(value)))

    success = report.get("status") in ("clean", "drift")
    family("shai_drift_changed_tasks", "gauge",
           "Tasks a check-mode run of the platform playbooks would change (handlers excluded).",
           [({"host": r["host"], "role": r["role"]}, r["changed_tasks"]) for r in report.get("changed_by_role", [])])
    family("shai_drift_failed_tasks", "gauge", "Tasks that failed during the last drift run, per host.",
           [({"host": h}, c["failed"]) for h, c in sorted(report.get("hosts", {}).items())])
    family("shai_drift_unreachable", "gauge", "1 when the host was unreachable during the last drift run.",
           [({"host": h}, bool(c["unreachable"])) for h, c in sorted(report.get("hosts", {}).items())])
    family("shai_drift_unverified_tasks", "gauge",
           "Tasks check mode could not evaluate (skipped commands), per host.",
           [({"host": h}, c["unverified"]) for h, c in sorted(report.get("hosts", {}).items())])
    family("shai_drift_last_run_timestamp_seconds", "gauge", "Unix time the last drift run finished.",
           [({}, report.get("timestamp", 0))])
    family("shai_drift_run_duration_seconds", "gauge", "Wall time of the last drift run.",
           [({}, report.get("duration_seconds", 0))])
    family("shai_drift_run_success", "gauge",
           "1 when the last drift run checked the selected hosts without task errors or unreachable hosts "
           "(drift or not; exit 0 or 3). 0 after any error, including an inventory that selects no host.",
           [({}, success)])
    family("shai_drift_detected", "gauge", "1 when the last successful drift run found drift.",
           [({}, report.get("status") == "drift")])
    argocd = report.get("argocd") or {}
    apps = argocd.get("applications") or []
    family("shai_argocd_app_out_of_sync", "gauge",
           "1 when the ArgoCD Application's status.sync.status is OutOfSync.",
           [({"app": a["name"], "namespace": a["namespace"]}, a["out_of_sync"]) for a in apps])
    family("shai_argocd_app_health_status", "gauge",
           "1 for the ArgoCD Application's current status.health.status (one series per app).",
           [({"app": a["name"], "namespace": a["namespace"], "status": a["health_status"]}, 1) for a in apps])
    family("shai_argocd_check_success", "gauge", "1 when the ArgoCD Applications were read in the last run.",
           [({}, bool(argocd.get("checked")))])
    return "\n".join(out) + "\n"


def write_metrics(report, directory, filename=METRICS_FILE):
    # type: (dict, str, str) -> str
    """Write the metrics file atomically (0644: node_exporter runs as its own user)."""
    path = os.path.join(directory, filename)
    write_atomic(path, render_metrics(report), 0o644)
    return path
