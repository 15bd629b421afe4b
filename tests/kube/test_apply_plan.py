"""The order apply-tree applies in (no control plane needed): ArgoCD's sync order, hooks, deferral."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import Obj

from shai.kube.apply_tree import hook_phase, plan
from shai.kube.pod_admission import _expected, _job_from_cronjob
from shai.kube.tree_apps import PseudoApp


def _o(kind: str, name: str, api: str = "v1", **annotations: str) -> Obj:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = {k.replace("__", "/").replace("_", "."): v for k, v in annotations.items()}
    return Obj({"apiVersion": api, "kind": kind, "metadata": meta}, f"{name}.yaml", "a")


def _refs(steps: list[Any]) -> list[str]:
    return [f"{s.doc['kind']}/{s.doc['metadata']['name']}" for s in steps]


def test_crds_then_namespaces_then_waves_in_kind_order() -> None:
    late = PseudoApp("late", 5, "ns", "directory", [_o("Deployment", "web", "apps/v1"), _o("Service", "web")])
    early = PseudoApp(
        "early",
        -1,
        "ns",
        "directory",
        [_o("ConfigMap", "c"), _o("CustomResourceDefinition", "x.example.com", "apiextensions.k8s.io/v1")],
    )
    ns = PseudoApp("namespaces", -3, "argocd", "directory", [_o("Namespace", "ns")])
    first, waves, deferred, skipped = plan([late, early, ns])
    assert _refs(first) == ["CustomResourceDefinition/x.example.com", "Namespace/ns"]
    assert _refs(waves) == ["ConfigMap/c", "Service/web", "Deployment/web"]
    assert [s.phase for s in waves] == ["wave -1", "wave 5", "wave 5"]
    assert not deferred and not skipped


def test_object_sync_wave_and_hook_phase_inside_an_app() -> None:
    objs = [
        _o("Job", "post", "batch/v1", **{"argocd.argoproj.io__hook": "PostSync"}),
        _o("ConfigMap", "late", **{"argocd.argoproj.io__sync-wave": "2"}),
        _o("Deployment", "web", "apps/v1"),
        _o("Job", "migrate", "batch/v1", **{"helm.sh__hook": "pre-install,pre-upgrade"}),
    ]
    _first, waves, _deferred, _skipped = plan([PseudoApp("a", 0, "ns", "chart", objs)])
    assert _refs(waves) == ["Job/migrate", "Deployment/web", "ConfigMap/late", "Job/post"]


def test_webhooks_and_apiservices_are_deferred_and_test_hooks_skipped_with_a_reason() -> None:
    objs = [
        _o("ValidatingWebhookConfiguration", "v", "admissionregistration.k8s.io/v1"),
        _o("MutatingWebhookConfiguration", "m", "admissionregistration.k8s.io/v1"),
        _o("APIService", "v1beta1.metrics.k8s.io", "apiregistration.k8s.io/v1"),
        _o("Pod", "t", **{"helm.sh__hook": "test"}),
    ]
    _first, waves, deferred, skipped = plan([PseudoApp("a", 0, "ns", "chart", objs)])
    assert not waves
    assert sorted(_refs(deferred)) == [
        "APIService/v1beta1.metrics.k8s.io",
        "MutatingWebhookConfiguration/m",
        "ValidatingWebhookConfiguration/v",
    ]
    assert [(app, o.status, o.message) for app, o in skipped] == [
        ("a", "skipped", "hook 'test': an ArgoCD sync does not run it")
    ]


def test_hook_phase_mapping() -> None:
    assert hook_phase({"metadata": {}}) == "Sync"
    assert hook_phase({"metadata": {"annotations": {"helm.sh/hook": "post-install"}}}) == "PostSync"
    assert hook_phase({"metadata": {"annotations": {"argocd.argoproj.io/hook": "Skip"}}}) is None


def test_expected_pods_per_kind() -> None:
    assert _expected("Deployment", {"spec": {}}) == (1, "")
    assert _expected("StatefulSet", {"spec": {"replicas": 3}})[0] == 1
    assert _expected("Job", {"spec": {"parallelism": 4, "completions": 2}}) == (2, "")
    daemon = {"metadata": {"generation": 2}, "status": {"observedGeneration": 1}}
    assert _expected("DaemonSet", daemon) == (None, "")


def test_job_from_cronjob_like_kubectl() -> None:
    cron = {
        "metadata": {"name": "nightly", "namespace": "n", "uid": "u1"},
        "spec": {"jobTemplate": {"metadata": {"labels": {"a": "b"}}, "spec": {"template": {}}}},
    }
    job = _job_from_cronjob(cron)
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert job["metadata"]["labels"] == {"a": "b"} and job["spec"] == {"template": {}}


def test_cli_refuses_a_missing_tree_and_a_bad_label(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shai.kube.cli import app

    res = CliRunner().invoke(app, ["apply-tree", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "no such directory" in res.output
    res = CliRunner().invoke(app, ["apply-tree", str(tmp_path), "--node-label", "novalue"])
    assert res.exit_code == 2 and "expected KEY=VALUE" in res.output


def test_a_document_that_is_no_kubernetes_object_is_reported_not_dropped() -> None:
    _first, waves, _deferred, skipped = plan(
        [PseudoApp("a", 0, "ns", "chart", [Obj({"kind": "X"}, "x.yaml", "a")])]
    )
    assert not waves
    assert [(app, o.status, o.file, o.message) for app, o in skipped] == [
        ("a", "failed", "x.yaml", "not a Kubernetes object")
    ]
