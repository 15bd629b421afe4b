"""An Application ArgoCD did not compare with its source is *unverified*, not drift (issue 15).

In the lab, Applications whose chart is not available there carry sync ``Unknown`` and a
condition saying why (the real ArgoCD reports ``Unknown`` + ``ComparisonError`` when it cannot
read a source); Applications that fail to sync only because their kinds come from such an
Application's CRDs are unverified too. The drift report lists them with the reason and still
says clean when nothing else differs; a missing kind whose provider is verified stays drift.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import drift_argocd as da
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr


def _app(
    name: str, sync: str, health: str, cond: tuple[str, str] | None = None, provides: str = ""
) -> dict[str, Any]:
    status: dict[str, Any] = {"sync": {"status": sync}, "health": {"status": health}}
    if cond:
        status["conditions"] = [{"type": cond[0], "message": cond[1]}]
    meta: dict[str, Any] = {"name": name, "namespace": "argocd"}
    if provides:
        meta["annotations"] = {da.PROVIDES_CRDS: provides}
    return {"metadata": meta, "status": status}


def _report(apps: list[dict[str, Any]]) -> dict[str, Any]:
    b = dr.ReportBuilder(playbook="playbooks/drift.yml")
    b.add_result("localhost", "ok", {"applications": apps}, action="vectorweight.shai.argocd_app_status")
    return b.build()


NOT_RENDERED = ("TestDoubleNotRendered", "chart source not available, not rendered (chart cert-manager)")
MISSING_CERT = 'Certificate x-tls: no matches for kind "Certificate" in version "cert-manager.io/v1"'


def test_classify() -> None:
    assert da.classify("Unknown", "Missing") == (False, True)
    assert da.classify("Unknown", "Unknown") == (False, True)
    assert da.classify("OutOfSync", "Healthy") == (True, False)
    assert da.classify("Synced", "Degraded") == (True, False)
    assert da.classify("Synced", "Healthy") == (False, False)


def test_unverified_application_is_reported_but_not_drift() -> None:
    error = ("ComparisonError", "git://10.213.4.10/platform.git@main: path secrets holds no manifests")
    apps = [
        da.summarize(_app("argocd", "Synced", "Healthy")),
        da.summarize(_app("sealed-secrets-data", "Unknown", "Missing", error)),
        da.summarize(_app("fresh", "Unknown", "Unknown")),
    ]
    assert apps[1]["unverified"] and not apps[1]["drift"] and apps[1]["unverified_reason"] == error[1]
    assert apps[2]["unverified_reason"] == "ArgoCD has not compared it with its source"
    rep = _report(apps)
    assert rep["status"] == "clean" and dr.exit_code(rep) == 0
    assert rep["summary"]["applications_unverified"] == 2 and rep["summary"]["applications_drifted"] == 0
    md = dr.render_markdown(rep)
    assert "unverified (ArgoCD could not compare with the source; not drift): 2" in md
    assert f"| argocd/sealed-secrets-data | Unknown (unverified: {error[1]}) | Missing |" in md


def test_missing_kinds_from_an_unverified_provider_are_unverified() -> None:
    raw = [
        _app("cert-manager", "Unknown", "Unknown", NOT_RENDERED, provides="cert-manager.io,acme"),
        _app("litellm", "OutOfSync", "Missing", ("SyncError", MISSING_CERT)),
    ]
    apps = da.resolve_dependencies([da.summarize(a) for a in raw])
    assert [(a["drift"], a["unverified"]) for a in apps] == [(False, True), (False, True)]
    assert apps[1]["unverified_reason"] == "needs cert-manager.io from cert-manager, which is unverified"
    assert _report(apps)["status"] == "clean"


def test_other_sync_errors_and_verified_providers_stay_drift() -> None:
    provider = _app("cert-manager", "Synced", "Healthy", provides="cert-manager.io")
    failing = _app("litellm", "OutOfSync", "Missing", ("SyncError", MISSING_CERT))
    apps = da.resolve_dependencies([da.summarize(provider), da.summarize(failing)])
    assert apps[1]["drift"] and not apps[1]["unverified"]  # the CRDs' provider is verified: real drift
    mixed = ("SyncError", MISSING_CERT + '; Deployment x: admission webhook "policy" denied the request')
    raw = [_app("cert-manager", "Unknown", "Unknown", NOT_RENDERED, provides="cert-manager.io"), failing]
    raw[1]["status"]["conditions"] = [{"type": mixed[0], "message": mixed[1]}]
    apps = da.resolve_dependencies([da.summarize(a) for a in raw])
    assert apps[1]["drift"] and not apps[1]["unverified"]  # another failure too: drift
    assert _report(apps)["status"] == "drift"
    argocd_words = "The Kubernetes API could not find cert-manager.io/Certificate for requested resource x/y."
    assert da._missing_groups(argocd_words) == {"cert-manager.io"}
