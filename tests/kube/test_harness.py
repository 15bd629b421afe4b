"""The real control plane harness: etcd + kube-apiserver + kube-controller-manager on loopback.

Everything here talks to the real, unmodified Kubernetes components built by tools/build.sh.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from shai import tools
from shai.kube.harness import ControlPlane, KubeHarnessError, start_control_plane

pytestmark = pytest.mark.kube

REPO = Path(__file__).resolve().parents[2]
SHARED_CRDS = Path(os.environ.get("SHAI_SHARED_CRDS", REPO.parent / "shared" / "crds"))


def _ns() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def test_binary_missing_names_the_build_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAI_CACHE", str(tmp_path))
    with pytest.raises(tools.ToolNotFoundError, match=r"make tools.*tools/build\.sh kube"):
        tools.binary("kube-apiserver")


def test_fixture_serves_the_pinned_version(kube_apiserver: ControlPlane) -> None:
    assert kube_apiserver.kubeconfig.is_file()
    assert oct(kube_apiserver.kubeconfig.stat().st_mode & 0o777) == "0o600"
    assert kube_apiserver.kubectl("get", "--raw=/readyz").stdout.strip() == "ok"
    version = json.loads(kube_apiserver.kubectl("get", "--raw=/version").stdout)
    assert version["gitVersion"].startswith("v1.37.")


def test_namespace_gets_default_service_account_and_deletion_finalises(kube_apiserver: ControlPlane) -> None:
    """kube-controller-manager runs: new namespaces get a default SA; deletion completes."""
    ns = _ns()
    kube_apiserver.create_namespace(ns)
    _wait(
        lambda: kube_apiserver.kubectl("-n", ns, "get", "sa", "default", check=False).returncode == 0,
        30,
        "the default service account",
    )
    kube_apiserver.kubectl("create", "configmap", "c", "-n", ns, "--from-literal=a=b")
    kube_apiserver.kubectl("delete", "namespace", ns, "--wait=true", "--timeout=60s")
    res = kube_apiserver.kubectl("get", "namespace", ns, check=False)
    assert res.returncode != 0 and "NotFound" in res.stderr


@pytest.mark.skipif(not SHARED_CRDS.is_dir(), reason=f"shared CRDs not present at {SHARED_CRDS}")
def test_all_shared_crds_apply_server_side(kube_apiserver: ControlPlane) -> None:
    out = kube_apiserver.apply(SHARED_CRDS)
    assert "sealedsecrets.bitnami.com serverside-applied" in out
    kube_apiserver.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    served = set(kube_apiserver.kubectl("get", "crd", "-o", "name").stdout.split())
    # The session's control plane is shared: other tests may have added CRDs of their own.
    files = list(SHARED_CRDS.rglob("*.yaml"))
    wanted = {
        "customresourcedefinition.apiextensions.k8s.io/" + doc["metadata"]["name"]
        for f in files
        for doc in yaml.safe_load_all(f.read_text())
        if doc and doc.get("kind") == "CustomResourceDefinition"
    }
    assert len(wanted) == len(files) and wanted <= served, sorted(wanted - served)
    # A custom resource of an applied CRD is accepted and validated against its schema.
    ns = _ns()
    kube_apiserver.create_namespace(ns)
    app = f"""
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: root, namespace: {ns}}}
spec:
  project: default
  source: {{repoURL: "https://git.example/gitops.git", path: apps, targetRevision: main}}
  destination: {{server: "https://kubernetes.default.svc", namespace: {ns}}}
"""
    kube_apiserver.kubectl("apply", "--server-side", "-f", "-", input=app)
    got = json.loads(kube_apiserver.kubectl("-n", ns, "get", "application", "root", "-o", "json").stdout)
    assert got["spec"]["source"]["path"] == "apps"


def test_server_side_dry_run_creates_nothing(kube_apiserver: ControlPlane, tmp_path: Path) -> None:
    ns = _ns()
    kube_apiserver.create_namespace(ns)
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: dry, namespace: {ns}}}\ndata: {{a: b}}\n"
    )
    out = kube_apiserver.apply(manifest, dry_run=True)
    assert "serverside-applied (server dry run)" in out
    assert kube_apiserver.kubectl("-n", ns, "get", "configmap", "dry", check=False).returncode != 0


def test_broken_manifest_is_rejected_with_the_api_server_message(
    kube_apiserver: ControlPlane, tmp_path: Path
) -> None:
    ns = _ns()
    kube_apiserver.create_namespace(ns)
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: broken, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: a}}}}
  template:
    metadata: {{labels: {{app: b}}}}
    spec: {{containers: []}}
"""
    )
    with pytest.raises(subprocess.CalledProcessError) as err:
        kube_apiserver.apply(broken, dry_run=True)
    msg = err.value.stderr
    assert 'The Deployment "broken" is invalid' in msg
    assert "spec.template.spec.containers: Required value" in msg
    assert "`selector` does not match template `labels`" in msg


def test_python_client_reads_and_writes(kube_apiserver: ControlPlane) -> None:
    from kubernetes import client

    ns = _ns()
    kube_apiserver.create_namespace(ns)
    core = client.CoreV1Api(kube_apiserver.api_client())
    core.create_namespaced_secret(
        ns, client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"k": "v"})
    )
    dyn = kube_apiserver.dynamic_client()
    secrets = dyn.resources.get(api_version="v1", kind="Secret")
    assert secrets.get(name="s", namespace=ns).data["k"] == "dg=="


def test_startup_failure_is_readable_and_cleans_up(tmp_path: Path) -> None:
    try:
        from shai.kube.harness import required_binaries

        required_binaries(controller_manager=False)
    except tools.ToolNotFoundError as exc:
        if os.environ.get("SHAI_REQUIRE_PEERS"):
            raise
        pytest.skip(str(exc))
    with pytest.raises(KubeHarnessError) as err:
        start_control_plane(
            "broken", controller_manager=False, timeout=60, extra_apiserver_args=["--no-such-flag=1"]
        )
    text = str(err.value)
    assert "kube-apiserver exited" in text
    assert "unknown flag: --no-such-flag" in text
    assert not list(Path("/tmp").glob("shai-kube-broken-*")), "temp dir left behind"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sealed_secrets_controller_starts_and_creates_its_key(
    kube_apiserver: ControlPlane, peer: Callable[[str], Path], tmp_path: Path
) -> None:
    """Smoke test: the real, unmodified sealed-secrets controller runs against the harness with a
    pod-like service-account volume and generates its sealing key. (The full secrets e2e lives in
    tests/secrets.)"""
    controller = peer("controller")
    crd = SHARED_CRDS / "sealed-secrets" / "bitnami.com_sealedsecrets.yaml"
    if not crd.is_file():
        pytest.skip(f"SealedSecret CRD not present at {crd}")
    kube_apiserver.apply(crd)
    ns = _ns()
    env = kube_apiserver.in_cluster(ns, "sealed-secrets-controller")
    log = tmp_path / "controller.log"
    argv = env.wrap(
        [
            str(controller),
            "--key-size=2048",
            f"--listen-addr=127.0.0.1:{_free_port()}",
            f"--listen-metrics-addr=127.0.0.1:{_free_port()}",
        ]
    )
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, env=env.environ(), stdout=fh, stderr=subprocess.STDOUT)
    try:

        def key_created() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"controller exited {proc.returncode}:\n{log.read_text()[-3000:]}")
            out = kube_apiserver.kubectl(
                "-n",
                ns,
                "get",
                "secret",
                "-l",
                "sealedsecrets.bitnami.com/sealed-secrets-key=active",
                "-o",
                "name",
            ).stdout
            return "secret/sealed-secrets-key" in out

        _wait(key_created, 90, "the controller's sealing key")
        secret = json.loads(
            kube_apiserver.kubectl(
                "-n", ns, "get", "secret", "-l", "sealedsecrets.bitnami.com/sealed-secrets-key", "-o", "json"
            ).stdout
        )["items"][0]
        assert secret["type"] == "kubernetes.io/tls"
        assert {"tls.crt", "tls.key"} <= set(secret["data"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
