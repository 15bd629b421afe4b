"""An Application ArgoCD could not compare with its source is *unverified*, not drift (issue 15).

In the lab, Applications whose chart or repository path is not available there carry sync
``Unknown`` + a ``ComparisonError`` condition (what the real ArgoCD reports too); the drift report
lists them with the reason and still says clean when nothing else differs.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import drift_argocd as da
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr


def _app(name: str, sync: str, health: str, error: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"sync": {"status": sync}, "health": {"status": health}}
    if error:
        status["conditions"] = [{"type": "ComparisonError", "message": error}]
    return {"metadata": {"name": name, "namespace": "argocd"}, "status": status}


def test_classify() -> None:
    assert da.classify("Unknown", "Missing", "rpc error: path secrets/ does not exist") == (False, True)
    assert da.classify("Unknown", "Missing") == (True, False)  # no reason given: Missing is drift
    assert da.classify("OutOfSync", "Healthy", "") == (True, False)
    assert da.classify("OutOfSync", "Healthy", "some error") == (True, False)  # it did compare
    assert da.classify("Synced", "Healthy") == (False, False)


def test_unverified_application_is_reported_but_not_drift() -> None:
    error = "failed to fetch chart kube-prometheus-stack: not available in the lab"
    apps = [
        da.summarize(_app("argocd", "Synced", "Healthy")),
        da.summarize(_app("prometheus", "Unknown", "Missing", error)),
    ]
    assert apps[1]["unverified"] and not apps[1]["drift"] and apps[1]["comparison_error"] == error
    b = dr.ReportBuilder(playbook="playbooks/drift.yml")
    b.add_result("localhost", "ok", {"applications": apps}, action="vectorweight.shai.argocd_app_status")
    rep = b.build()
    assert rep["status"] == "clean" and dr.exit_code(rep) == 0
    assert rep["summary"]["applications_unverified"] == 1 and rep["summary"]["applications_drifted"] == 0
    md = dr.render_markdown(rep)
    assert "unverified (ArgoCD could not compare with the source; not drift): 1" in md
    assert f"| argocd/prometheus | Unknown (unverified: {error}) | Missing |" in md


def test_drift_next_to_unverified_is_still_drift() -> None:
    apps = [
        da.summarize(_app("prometheus", "Unknown", "Missing", "chart not available")),
        da.summarize(_app("litellm", "OutOfSync", "Healthy")),
    ]
    b = dr.ReportBuilder()
    b.add_result("localhost", "ok", {"applications": apps}, action="vectorweight.shai.argocd_app_status")
    rep = b.build()
    assert rep["status"] == "drift" and rep["summary"]["applications_drifted"] == 1
