"""argocd_app_status and the cluster part of playbooks/drift.yml against the real API harness.

The Application CRD is the real upstream one (/work/shared/crds/argo-cd); there is no ArgoCD
controller here, so the tests write each Application's status the way the controller would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT, VENV_BIN

pytestmark = pytest.mark.kube

CRD = Path(__file__).resolve().parents[2] / "gitops" / "crds" / "argoproj.io_applications.yaml"


def _app(name: str, namespace: str, sync: str, health: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://git.example/platform.git",
                "path": f"apps/{name}",
                "targetRevision": "main",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        },
        "status": {
            "sync": {"status": sync, "revision": "0123abc"},
            "health": {"status": health},
            "operationState": {
                "phase": "Succeeded",
                "startedAt": "2026-11-29T00:00:00Z",
                "operation": {"sync": {"revision": "0123abc"}},
            },
        },
    }


@pytest.fixture(scope="module")
def argocd_namespace(kube_apiserver: Any) -> str:
    if not CRD.exists():
        pytest.skip(f"{CRD} missing")
    kube_apiserver.apply(CRD)
    # `kubectl wait` fails at once ("<nil> is of the type <nil>") while the new CRD has no
    # status.conditions yet (a loaded machine): poll until the condition exists, then wait.
    deadline = time.monotonic() + 180
    while True:
        probe = kube_apiserver.kubectl(
            "get", "crd/applications.argoproj.io", "-o", "jsonpath={.status.conditions}", check=False
        )
        if (probe.returncode == 0 and probe.stdout.strip()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    kube_apiserver.kubectl(
        "wait", "--for=condition=Established", "crd/applications.argoproj.io", "--timeout=180s"
    )
    ns = f"drift-{uuid.uuid4().hex[:6]}"
    kube_apiserver.create_namespace(ns)
    apps = [
        _app("platform", ns, "Synced", "Healthy"),
        _app("ollama", ns, "Synced", "Healthy"),
        _app("comfyui-proxy", ns, "Synced", "Progressing"),
    ]
    kube_apiserver.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(apps))
    return ns


def _module(kubeconfig: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible"),
            "localhost",
            "-m",
            "vectorweight.shai.argocd_app_status",
            "-a",
            json.dumps({"kubeconfig": str(kubeconfig), **dict(a.split("=", 1) for a in args)}),
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-o",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    out = proc.stdout
    payload = out[out.index("{") :]
    result: dict[str, Any] = json.loads(payload)
    result["_rc"] = proc.returncode
    return result


def test_module_reads_every_application(kube_apiserver: Any, argocd_namespace: str) -> None:
    result = _module(kube_apiserver.kubeconfig, f"namespace={argocd_namespace}")
    assert result["_rc"] == 0 and result["changed"] is False
    apps = {a["name"]: a for a in result["applications"]}
    assert sorted(apps) == ["comfyui-proxy", "ollama", "platform"]
    assert apps["ollama"]["sync_status"] == "Synced" and apps["ollama"]["health_status"] == "Healthy"
    assert apps["ollama"]["revision"] == "0123abc" and apps["ollama"]["operation_phase"] == "Succeeded"
    assert apps["comfyui-proxy"]["health_status"] == "Progressing" and not apps["comfyui-proxy"]["drift"]
    assert result["out_of_sync"] == [] and result["drifted"] == []


def test_module_reports_out_of_sync_and_degraded(kube_apiserver: Any, argocd_namespace: str) -> None:
    ns = argocd_namespace
    kube_apiserver.kubectl(
        "-n",
        ns,
        "patch",
        "application",
        "ollama",
        "--type=merge",
        "-p",
        '{"status":{"sync":{"status":"OutOfSync"}}}',
    )
    try:
        result = _module(kube_apiserver.kubeconfig, f"namespace={ns}")
        assert result["out_of_sync"] == [f"{ns}/ollama"] and result["drifted"] == [f"{ns}/ollama"]
        failing = _module(kube_apiserver.kubeconfig, f"namespace={ns}", "fail_on_drift=true")
        assert failing["_rc"] != 0 and f"{ns}/ollama" in failing["msg"]
    finally:
        kube_apiserver.kubectl(
            "-n",
            ns,
            "patch",
            "application",
            "ollama",
            "--type=merge",
            "-p",
            '{"status":{"sync":{"status":"Synced"}}}',
        )


def test_module_error_names_the_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "missing-kubeconfig"
    result = _module(bad)
    assert result["_rc"] != 0 and str(bad) in result["msg"]


def _drift_run(tmp: Path, kubeconfig: Path, ns: str, name: str) -> tuple[int, dict[str, Any], str]:
    inventory = tmp / "empty.ini"
    inventory.write_text("[all]\n")
    report_dir, metrics_dir = tmp / f"r-{name}", tmp / f"m-{name}"
    proc = subprocess.run(
        [
            str(VENV_BIN / "shai"),
            "drift",
            "run",
            "--cluster-only",  # an empty inventory: without it, nothing checked is an error
            "-i",
            str(inventory),
            "--report-dir",
            str(report_dir),
            "--metrics-dir",
            str(metrics_dir),
            "--ansible-arg=-e",
            f"--ansible-arg=shai_drift_kubeconfig={kubeconfig} shai_drift_argocd_namespace={ns}",
            "--ansible-arg=-e",
            f"--ansible-arg=ansible_python_interpreter={sys.executable}",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    report = json.loads((report_dir / "drift-report.json").read_text())
    return proc.returncode, report, (metrics_dir / "shai_drift.prom").read_text() + proc.stdout + proc.stderr


def test_drift_playbook_cluster_part(kube_apiserver: Any, argocd_namespace: str, tmp_path: Path) -> None:
    """playbooks/drift.yml end to end, cluster part only (no hosts): clean, then an app goes Degraded."""
    ns = argocd_namespace
    code, report, out = _drift_run(tmp_path, kube_apiserver.kubeconfig, ns, "clean")
    assert code == 0, out
    assert report["argocd"]["checked"] and len(report["argocd"]["applications"]) == 3
    assert 'shai_argocd_app_out_of_sync{app="ollama",namespace="' + ns + '"} 0' in out
    kube_apiserver.kubectl(
        "-n",
        ns,
        "patch",
        "application",
        "platform",
        "--type=merge",
        "-p",
        '{"status":{"health":{"status":"Degraded"}}}',
    )
    try:
        code, report, out = _drift_run(tmp_path, kube_apiserver.kubeconfig, ns, "degraded")
        assert code == 3, out
        assert report["summary"]["applications_drifted"] == 1
        assert f'shai_argocd_app_health_status{{app="platform",namespace="{ns}",status="Degraded"}} 1' in out
    finally:
        kube_apiserver.kubectl(
            "-n",
            ns,
            "patch",
            "application",
            "platform",
            "--type=merge",
            "-p",
            '{"status":{"health":{"status":"Healthy"}}}',
        )
