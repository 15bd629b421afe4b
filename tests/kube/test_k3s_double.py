"""The k3s TEST DOUBLE (tools/kube/cmd/k3s): the lab's stand-in for the k3s binary.

It runs the real kube-apiserver + embedded etcd; these tests start it as `k3s server` on loopback
ports with a temp data dir (as the k3s role would on a lab host, minus systemd) and check the
k3s-compatible surface the role relies on: kubeconfig, token files, Node Ready, `k3s kubectl`,
the manifests deploy controller, an agent joining with the token.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from waiting import free_port as _free_port
from waiting import terminate as _terminate
from waiting import wait_until as _wait

pytestmark = pytest.mark.kube


@dataclass
class K3sServer:
    binary: Path
    root: Path
    data_dir: Path
    kubeconfig: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [str(self.binary), "kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and res.returncode != 0:
            raise AssertionError(f"k3s kubectl {' '.join(args)} failed: {res.stderr}")
        return res


@pytest.fixture(scope="module")
def k3s_binary(peer: Callable[[str], Path]) -> Path:
    return peer("k3s")


@pytest.fixture(scope="module")
def k3s_server(k3s_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[K3sServer]:
    with _run_server(k3s_binary, tmp_path_factory.mktemp("k3s-double"), {}) as server:
        yield server


@contextlib.contextmanager
def _run_server(k3s_binary: Path, root: Path, extra_env: dict[str, str]) -> Iterator[K3sServer]:
    data_dir = root / "data"
    kubeconfig = root / "k3s.yaml"
    port = _free_port()
    token_file = root / "token"
    token_file.write_text("shai-test-token\n")
    token_file.chmod(0o600)
    config = root / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "token-file": str(token_file),
                "data-dir": str(data_dir),
                "write-kubeconfig": str(kubeconfig),
                "write-kubeconfig-mode": "0640",
                "https-listen-port": port,
                "bind-address": "127.0.0.1",
                "node-ip": "127.0.0.1",
                "node-name": "lab-server",
                "node-label": ["shai.vectorweight.com/role=server"],
                "tls-san": ["k3s.lab.test", "10.213.0.10"],
                "disable": ["traefik", "servicelb"],
                "secrets-encryption": True,
                "protect-kernel-defaults": True,
                "cluster-cidr": "10.42.0.0/16",
                "service-cidr": "10.43.0.0/16",
                "some-future-flag": "ignored",
            }
        )
    )
    manifests = data_dir / "server" / "manifests"
    manifests.mkdir(parents=True)
    (manifests / "shai-ns.yaml").write_text(
        """apiVersion: v1
kind: Namespace
metadata: {name: shai-deploy}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: from-manifests, namespace: shai-deploy}
data: {generation: "1"}
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: demo}
spec: {chart: demo, repo: "https://charts.example", version: 1.0.0}
"""
    )
    log = root / "k3s.log"
    env = {**os.environ, "SHAI_K3S_DOUBLE_ETCD_PORTS": f"{_free_port()},{_free_port()}", **extra_env}
    env.pop("NOTIFY_SOCKET", None)
    if not extra_env:
        env.pop("SHAI_K3S_DOUBLE_CONTROLLERS", None)
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(k3s_binary), "server", "--config", str(config), "--debug"],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = K3sServer(k3s_binary, root, data_dir, kubeconfig, port, log, proc)
    try:
        _wait(
            lambda: "ready: kubeconfig" in log.read_text(errors="replace") or proc.poll() is not None,
            180,
            "k3s server ready",
            log,
        )
        if proc.poll() is not None:
            pytest.fail(f"k3s server exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        yield server
    finally:
        _terminate(proc)


def test_version_says_test_double(k3s_binary: Path) -> None:
    out = subprocess.run([str(k3s_binary), "--version"], capture_output=True, text=True, check=True).stdout
    first = out.splitlines()[0]
    assert re.match(
        r"^k3s version v1\.37\.\d+\+k3s\d+ \(shai test double: apiserver\+etcd, no kubelet\)$", first
    )


def test_unknown_subcommand_fails(k3s_binary: Path) -> None:
    res = subprocess.run(
        [str(k3s_binary), "ctr", "images", "ls"], capture_output=True, text=True, check=False
    )
    assert res.returncode != 0 and "not available" in res.stderr


def test_server_writes_kubeconfig_and_tokens(k3s_server: K3sServer) -> None:
    assert oct(k3s_server.kubeconfig.stat().st_mode & 0o777) == "0o640"
    kc = yaml.safe_load(k3s_server.kubeconfig.read_text())
    assert kc["current-context"] == "default"
    assert kc["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{k3s_server.port}"
    token = (k3s_server.data_dir / "server" / "token").read_text().strip()
    assert re.fullmatch(r"K10[0-9a-f]{64}::server:shai-test-token", token)
    assert (k3s_server.data_dir / "server" / "node-token").read_text().strip() == token
    assert oct((k3s_server.data_dir / "server" / "token").stat().st_mode & 0o777) == "0o600"


def test_serving_cert_has_tls_sans(k3s_server: K3sServer) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(
        (k3s_server.data_dir / "server" / "tls" / "serving-kube-apiserver.crt").read_bytes()
    )
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(v) for v in sans.get_values_for_type(x509.DNSName)}
    ips = {str(v) for v in sans.get_values_for_type(x509.IPAddress)}
    assert {"k3s.lab.test", "kubernetes.default.svc"} <= names
    assert {"10.213.0.10", "127.0.0.1", "10.43.0.1"} <= ips


def test_readyz_and_node_ready_via_k3s_kubectl(k3s_server: K3sServer) -> None:
    assert k3s_server.kubectl("get", "--raw=/readyz").stdout.strip() == "ok"
    _wait(
        lambda: (
            k3s_server.kubectl(
                "get",
                "node",
                "lab-server",
                "-o",
                'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
                check=False,
            ).stdout.strip()
            == "True"
        ),
        60,
        "node lab-server Ready",
        k3s_server.log,
    )
    node = json.loads(k3s_server.kubectl("get", "node", "lab-server", "-o", "json").stdout)
    labels = node["metadata"]["labels"]
    assert labels["node-role.kubernetes.io/control-plane"] == "true"
    assert labels["shai.vectorweight.com/role"] == "server"
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.37.")


def test_anonymous_readyz_is_refused_like_k3s(k3s_server: K3sServer) -> None:
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"https://127.0.0.1:{k3s_server.port}/readyz", context=ctx, timeout=10)
    assert err.value.code == 401


def test_secrets_are_encrypted_at_rest(k3s_server: K3sServer) -> None:
    cfg = json.loads((k3s_server.data_dir / "server" / "cred" / "encryption-config.json").read_text())
    assert "aescbc" in cfg["resources"][0]["providers"][0]


def test_manifests_are_applied_and_reapplied_on_change(k3s_server: K3sServer) -> None:
    def generation() -> str:
        res = k3s_server.kubectl(
            "-n",
            "shai-deploy",
            "get",
            "configmap",
            "from-manifests",
            "-o",
            "jsonpath={.data.generation}",
            check=False,
        )
        return res.stdout.strip() if res.returncode == 0 else ""

    _wait(lambda: generation() == "1", 60, "manifest applied", k3s_server.log)

    # Manifest files are applied one after another: the HelmChart may land a moment later.
    def chart_exists() -> bool:
        res = k3s_server.kubectl("-n", "kube-system", "get", "helmchart", "demo", check=False)
        return res.returncode == 0

    _wait(
        chart_exists,
        60,
        "HelmChart manifest applied",
        k3s_server.log,
    )
    chart = json.loads(
        k3s_server.kubectl("-n", "kube-system", "get", "helmchart", "demo", "-o", "json").stdout
    )
    assert chart["spec"]["chart"] == "demo"
    path = k3s_server.data_dir / "server" / "manifests" / "shai-ns.yaml"
    path.write_text(path.read_text().replace('generation: "1"', 'generation: "2"'))
    _wait(lambda: generation() == "2", 60, "manifest re-applied after change", k3s_server.log)


def test_agent_registers_a_ready_node_with_the_token(k3s_server: K3sServer, tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    with log.open("wb") as fh:
        agent = subprocess.Popen(
            [
                str(k3s_server.binary),
                "agent",
                "--server",
                f"https://127.0.0.1:{k3s_server.port}",
                "--token",
                "shai-test-token",
                "--node-name",
                "lab-agent",
                "--node-ip",
                "127.0.0.1",
                "--kubelet-arg=max-pods=50",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait(
            lambda: (
                k3s_server.kubectl(
                    "get",
                    "node",
                    "lab-agent",
                    "-o",
                    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
                    check=False,
                ).stdout.strip()
                == "True"
            ),
            60,
            "agent node Ready",
            log,
        )
    finally:
        agent.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            agent.wait(15)
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0, log.read_text()


def test_agent_with_a_wrong_token_does_not_register(k3s_server: K3sServer, tmp_path: Path) -> None:
    # The agent retries forever like k3s does; run it briefly and check it never registered.
    proc = subprocess.Popen(
        [
            str(k3s_server.binary),
            "agent",
            "--server",
            f"https://127.0.0.1:{k3s_server.port}",
            "--token",
            "wrong",
            "--node-name",
            "intruder",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(5)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=15)[0].decode()
    assert "Unauthorized" in out
    assert k3s_server.kubectl("get", "node", "intruder", check=False).returncode != 0


def test_kubeconfig_client_cert_is_cluster_admin(k3s_server: K3sServer) -> None:
    kc = yaml.safe_load(k3s_server.kubeconfig.read_text())
    pem = base64.b64decode(kc["users"][0]["user"]["client-certificate-data"])
    assert b"BEGIN CERTIFICATE" in pem
    assert k3s_server.kubectl("auth", "can-i", "*", "*").stdout.strip() == "yes"


# ---- opt-in TEST DOUBLE controllers: helm-controller and ArgoCD application-controller ----------

KUBELET_NOTE = "kubelet: rollout status set by the k3s test double; no pod ran"

DOUBLE_CHARTS = """apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: sealed-secrets, namespace: kube-system}
spec:
  chart: sealed-secrets
  repo: https://bitnami-labs.github.io/sealed-secrets
  version: 2.16.1
  targetNamespace: kube-system
  valuesContent: |
    fullnameOverride: sealed-secrets-controller
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: argocd, namespace: kube-system}
spec:
  chart: argo-cd
  repo: https://argoproj.github.io/argo-helm
  version: 8.1.3
  targetNamespace: argocd
  valuesContent: |
    fullnameOverride: argocd
    dex: {enabled: false}
"""

# The root Application's directory: a chart the double has no source of, the bootstrap chart it
# embeds, and a plain object.
ROOT_APPS = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: child, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: argocd}
  source: {repoURL: https://charts.invalid, chart: child, targetRevision: 1.0.0}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: sealed-secrets, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: kube-system}
  source:
    repoURL: https://bitnami-labs.github.io/sealed-secrets
    chart: sealed-secrets
    targetRevision: 2.16.1
    helm:
      releaseName: sealed-secrets
      valuesObject: {fullnameOverride: sealed-secrets-controller}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: applied-by-the-double, namespace: argocd}
"""

# A workload no kubelet stand-in marks, an object the API server rejects, and an object of a kind
# the cluster does not serve (its CRD would come from a chart the double does not render).
WORKLOAD = """apiVersion: apps/v1
kind: Deployment
metadata: {name: plain, namespace: argocd}
spec:
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec: {containers: [{name: c, image: registry.invalid/plain:1}]}
"""
BROKEN = """apiVersion: v1
kind: Service
metadata: {name: broken, namespace: argocd}
spec: {ports: [{port: 999999}]}
"""
CRDLESS = """apiVersion: example.invalid/v1
kind: Widget
metadata: {name: w, namespace: argocd}
"""


@pytest.fixture(scope="module")
def k3s_doubles(k3s_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[K3sServer]:
    env = {"SHAI_K3S_DOUBLE_CONTROLLERS": "helm-controller,argocd"}
    with _run_server(k3s_binary, tmp_path_factory.mktemp("k3s-doubles"), env) as server:
        yield server


def _rolled_out(server: K3sServer, ns: str, workload: str) -> bool:
    res = server.kubectl("-n", ns, "rollout", "status", workload, "--timeout=5s", check=False)
    return res.returncode == 0


def _install_charts(server: K3sServer) -> None:
    """Drop the two bootstrap HelmCharts into the manifests directory (once per server)."""
    charts = server.data_dir / "server" / "manifests" / "charts.yaml"
    if not charts.exists():
        charts.write_text(DOUBLE_CHARTS)


def _get(server: K3sServer, *args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(server.kubectl(*args, "-o", "json").stdout)
    return doc


def _helm_release(server: K3sServer, ns: str, secret: str) -> dict[str, Any]:
    """Helm's release record: base64(gzip(JSON)) in the Secret's `release` key."""
    data = _get(server, "-n", ns, "get", "secret", secret)["data"]["release"]
    rel: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(data))))
    return rel


def _git_repo(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "apps"], check=True)
    return path


def _app(name: str, repo: Path, path: str) -> str:
    return f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {name}, namespace: argocd}}
spec:
  project: default
  destination: {{server: https://kubernetes.default.svc, namespace: argocd}}
  source: {{repoURL: "file://{repo}", path: {path}, targetRevision: main}}
  syncPolicy: {{automated: {{prune: false}}}}
---
"""


def test_helm_controller_double_is_off_by_default(k3s_server: K3sServer) -> None:
    # The HelmChart from the manifests fixture is stored, never "installed": no finalizer.
    _wait(
        lambda: (
            k3s_server.kubectl("-n", "kube-system", "get", "helmchart", "demo", check=False).returncode == 0
        ),
        60,
        "HelmChart demo",
        k3s_server.log,
    )
    time.sleep(5)
    chart = _get(k3s_server, "-n", "kube-system", "get", "helmchart", "demo")
    assert not chart["metadata"].get("finalizers")
    assert "TEST DOUBLE running" not in k3s_server.log.read_text(errors="replace")


def test_helm_controller_double_installs_the_real_charts(k3s_doubles: K3sServer) -> None:
    srv = k3s_doubles
    _install_charts(srv)
    workloads = [
        ("kube-system", "deployment/sealed-secrets-controller"),
        ("argocd", "deployment/argocd-server"),
        ("argocd", "deployment/argocd-repo-server"),
        ("argocd", "deployment/argocd-redis"),
        ("argocd", "deployment/argocd-applicationset-controller"),
        ("argocd", "statefulset/argocd-application-controller"),
    ]
    for ns, workload in workloads:
        _wait(functools.partial(_rolled_out, srv, ns, workload), 120, f"{workload} rolled out", srv.log)
    # The chart's own objects: CRDs (crds/ and templated), Services, RBAC, ConfigMaps.
    srv.kubectl(
        "get", "crd", "sealedsecrets.bitnami.com", "applications.argoproj.io", "appprojects.argoproj.io"
    )
    srv.kubectl(
        "-n", "argocd", "get", "service/argocd-server", "configmap/argocd-cm", "serviceaccount/argocd-server"
    )
    srv.kubectl("get", "clusterrole/argocd-application-controller", "clusterrole/secrets-unsealer")
    # Every installed workload says that the double, not a kubelet, set its rollout status.
    for ns, workload in workloads:
        obj = _get(srv, "-n", ns, "get", workload)
        assert obj["metadata"]["annotations"]["shai.vectorweight.com/test-double"] == KUBELET_NOTE, workload
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm", workload
    dep = _get(srv, "-n", "argocd", "get", "deployment", "argocd-server")
    assert dep["metadata"]["labels"]["helm.sh/chart"] == "argo-cd-8.1.3"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"].startswith("quay.io/argoproj/argocd:")
    # Helm's own release record (the SDK wrote it).
    rel_names = srv.kubectl(
        "-n", "argocd", "get", "secret", "-l", "owner=helm,name=argocd", "-o", "name"
    ).stdout
    assert rel_names.split() == ["secret/sh.helm.release.v1.argocd.v1"]
    rel = _helm_release(srv, "argocd", "sh.helm.release.v1.argocd.v1")
    assert rel["info"]["status"] == "deployed"
    assert rel["chart"]["metadata"]["version"] == "8.1.3"
    assert "test double" in rel["info"]["description"]
    assert rel["config"] == {"fullnameOverride": "argocd", "dex": {"enabled": False}}
    # A chart whose source is not embedded is not installed, and the HelmChart says why.
    _wait(
        lambda: (
            "ChartSourceNotAvailable"
            in srv.kubectl("-n", "kube-system", "get", "helmchart", "demo", "-o", "json").stdout
        ),
        60,
        "HelmChart demo reported as not available",
        srv.log,
    )
    cond = _get(srv, "-n", "kube-system", "get", "helmchart", "demo")["status"]["conditions"][0]
    assert cond["type"] == "Failed" and cond["status"] == "True"
    assert "demo 1.0.0 not available" in cond["message"]
    # A rollout restart (new generation) is rolled out again.
    srv.kubectl("-n", "kube-system", "rollout", "restart", "deployment/sealed-secrets-controller")
    _wait(
        lambda: _rolled_out(srv, "kube-system", "deployment/sealed-secrets-controller"),
        60,
        "restart",
        srv.log,
    )


def test_argocd_double_reports_what_it_rendered_and_applied(k3s_doubles: K3sServer, tmp_path: Path) -> None:
    srv = k3s_doubles
    _install_charts(srv)
    _wait(
        lambda: _rolled_out(srv, "argocd", "statefulset/argocd-application-controller"),
        120,
        "ArgoCD",
        srv.log,
    )
    repo = _git_repo(
        tmp_path / "platform",
        {
            "apps/apps.yaml": ROOT_APPS,
            "workload/plain.yaml": WORKLOAD,
            "broken/service.yaml": BROKEN,
            "crdless/widget.yaml": CRDLESS,
        },
    )
    apps = tmp_path / "apps.yaml"
    apps.write_text(
        "".join(
            _app(name, repo, name if name != "root" else "apps")
            for name in ("root", "workload", "broken", "crdless")
        )
    )
    srv.kubectl("apply", "-f", str(apps))

    def status(name: str) -> dict[str, Any]:
        res = srv.kubectl("-n", "argocd", "get", "application", name, "-o", "json", check=False)
        st: dict[str, Any] = json.loads(res.stdout).get("status", {}) if res.returncode == 0 else {}
        return st

    def state(name: str) -> str:
        st = status(name)
        return f"{st.get('sync', {}).get('status')}/{st.get('health', {}).get('status')}"

    want = {
        "root": "Synced/Healthy",
        "sealed-secrets": "Synced/Healthy",
        "child": "Unknown/Unknown",
        "workload": "Synced/Progressing",
        "broken": "OutOfSync/Missing",
        "crdless": "Unknown/Unknown",
    }
    _wait(lambda: all(state(n) == w for n, w in want.items()), 120, f"Application states {want}", srv.log)
    conds = {n: {c["type"]: c["message"] for c in status(n).get("conditions", [])} for n in want}
    # What the double cannot compare is unverified (sync Unknown + ComparisonError, as drift reads
    # it), not drift, and never Healthy: a chart it has no source of, a kind no CRD serves.
    assert conds["child"] == {
        "ComparisonError": "test double: chart source not available, not rendered "
        "(chart child 1.0.0 from https://charts.invalid)"
    }
    assert conds["crdless"] == {
        "ComparisonError": "test double: not applied: kind(s) Widget (example.invalid/v1) not served by this "
        "cluster (their CRDs come from charts the test double does not render)"
    }
    # Health of workloads is unverified wherever the double claims a health.
    for name in ("root", "sealed-secrets", "workload", "broken"):
        assert "workload health unverified" in conds[name]["TestDoubleHealthUnverified"], name
    # What the API server rejects is a sync error (drift), not "unverified".
    assert "Service broken" in conds["broken"]["SyncError"]
    assert "no kubelet" in status("workload")["health"]["message"]
    # Everything rendered was applied, not only Applications.
    srv.kubectl("-n", "argocd", "get", "configmap", "applied-by-the-double")
    assert len(status("root")["sync"]["revision"]) == 40
    assert status("sealed-secrets")["sync"]["revision"] == "2.16.1"


def test_hand_over_keeps_an_unmanaged_release_and_uninstalls_a_managed_one(k3s_doubles: K3sServer) -> None:
    srv = k3s_doubles
    _install_charts(srv)
    for ns, workload in [
        ("kube-system", "deployment/sealed-secrets-controller"),
        ("argocd", "deployment/argocd-server"),
    ]:
        _wait(functools.partial(_rolled_out, srv, ns, workload), 120, f"{workload} rolled out", srv.log)
    # Hand-over (as roles/argocd_bootstrap does): unmanaged + delete keeps the release.
    (srv.data_dir / "server" / "manifests" / "charts.yaml").unlink()
    srv.kubectl(
        "-n",
        "kube-system",
        "annotate",
        "helmchart",
        "sealed-secrets",
        "helmcharts.helm.cattle.io/unmanaged=true",
    )
    srv.kubectl("-n", "kube-system", "delete", "helmchart", "sealed-secrets", "--wait=false")
    time.sleep(5)  # the double ignores an unmanaged chart: its finalizer stays
    assert srv.kubectl("-n", "kube-system", "get", "helmchart", "sealed-secrets", check=False).returncode == 0
    srv.kubectl(
        "-n",
        "kube-system",
        "patch",
        "helmchart",
        "sealed-secrets",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":[]}}',
    )
    _wait(
        lambda: (
            srv.kubectl("-n", "kube-system", "get", "helmchart", "sealed-secrets", check=False).returncode
            != 0
        ),
        30,
        "unmanaged HelmChart gone",
        srv.log,
    )
    time.sleep(3)
    assert _rolled_out(srv, "kube-system", "deployment/sealed-secrets-controller")
    assert srv.kubectl(
        "-n", "kube-system", "get", "secret", "-l", "owner=helm,name=sealed-secrets", "-o", "name"
    ).stdout

    # Deleting a managed HelmChart is `helm uninstall`: the chart's objects and release records go,
    # the CRDs stay (the chart keeps them).
    srv.kubectl("-n", "kube-system", "delete", "helmchart", "argocd", "--timeout=90s")
    assert srv.kubectl("-n", "argocd", "get", "deployment", "argocd-server", check=False).returncode != 0
    assert srv.kubectl("-n", "argocd", "get", "configmap", "argocd-cm", check=False).returncode != 0
    assert srv.kubectl("-n", "argocd", "get", "secret", "-l", "owner=helm", "-o", "name").stdout.strip() == ""
    srv.kubectl("get", "crd", "applications.argoproj.io")
