"""waves: custom resources only in a later wave than the Application installing their CRDs."""

from __future__ import annotations

from rule_fixtures import Obj, application, findings, obj

ISSUER = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "ca"}}


def _cm(wave: int) -> dict:
    app = application("cert-manager", wave, chart="cert-manager")
    app["metadata"]["annotations"]["shai.vectorweight.com/provides-crds"] = "cert-manager.io"
    return app


def _issuers(wave: int) -> Obj:
    return obj(application("issuers", wave, path="platform/issuers"), "apps/i.yaml")


def test_good_later_wave() -> None:
    objs = [obj(_cm(-1), "apps/cm.yaml"), _issuers(0)]
    assert findings("waves", *objs, obj(ISSUER, "platform/issuers/i.yaml", "issuers")) == []


def test_bad_same_wave() -> None:
    objs = [obj(_cm(0), "apps/cm.yaml"), _issuers(0)]
    assert findings("waves", *objs, obj(ISSUER, "platform/issuers/i.yaml", "issuers")) == [
        "platform/issuers/i.yaml: ClusterIssuer ca: apiVersion: uses cert-manager.io (installed by "
        "cert-manager at wave 0) from Application issuers at wave 0: must be a later wave [waves]"
    ]


def test_bad_no_provider_and_bad_wave() -> None:
    bad = application("x", "soon", path="p")
    out = findings(
        "waves",
        obj(bad, "apps/x.yaml"),
        obj(application("i", 1, path="p"), "apps/i.yaml"),
        obj(ISSUER, "p/i.yaml", "i"),
    )
    assert out == [
        "apps/x.yaml: Application argocd/x: metadata.annotations[argocd.argoproj.io/sync-wave]: not an "
        "integer [waves]",
        "p/i.yaml: ClusterIssuer ca: apiVersion: API group cert-manager.io is installed by no Application "
        "(add it to a chart's crds) [waves]",
    ]


def test_chart_rendering_its_own_crds_is_fine() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "clusterissuers.cert-manager.io"},
        "spec": {"group": "cert-manager.io"},
    }
    objs = [
        obj(application("cm", 0, chart="cert-manager"), "apps/cm.yaml"),
        obj(crd, "cm:cert-manager/templates/crds.yaml", "cm", True),
        obj(ISSUER, "cm:cert-manager/templates/issuer.yaml", "cm", True),
    ]
    assert findings("waves", *objs) == []
