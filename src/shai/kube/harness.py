"""A real Kubernetes control plane on loopback for tests and manual use.

Starts the pinned, unmodified ``etcd``, ``kube-apiserver`` and (optionally)
``kube-controller-manager`` that ``tools/build.sh kube`` builds, with freshly generated
certificates, on random free loopback ports. Nothing here is a mock: every request goes to the
real API server, which stores into a real etcd.

Typical use::

    with start_control_plane() as cp:
        cp.kubectl("apply", "--server-side", "-f", "crds/")

The pytest fixture ``kube_apiserver`` (tests/conftest.py) wraps :func:`start_control_plane`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml

from shai import tools
from shai.kube.in_cluster import InCluster
from shai.kube.pki import Pki, write_pki

__all__ = [
    "ControlPlane",
    "InCluster",
    "KubeHarnessError",
    "ProcessInfo",
    "load_state",
    "required_binaries",
    "start_control_plane",
]

DEFAULT_TIMEOUT = 90.0
SERVICE_CIDR = "10.0.0.0/24"
STATE_FILE = "state.json"

# The fast default: enough for namespaces to get their `default` SA and to be deleted.
BASE_CONTROLLERS = ("namespace", "serviceaccount", "serviceaccount-token", "garbagecollector")
# `workloads=True`: the controllers that turn workloads into Pods, and quota accounting
# (ResourceQuota admission needs the quota controller to fill in `status.used`).
WORKLOAD_CONTROLLERS = (
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "job",
    "cronjob",
    "resourcequota",
)
# k3s adds NodeRestriction to the kube-apiserver's default-on plugins (k3s-io/k3s
# pkg/daemons/control/server.go: argsMap["enable-admission-plugins"] = "NodeRestriction").
# The defaults (NamespaceLifecycle, LimitRanger, ServiceAccount, DefaultStorageClass,
# DefaultTolerationSeconds, Mutating/ValidatingAdmissionWebhook, ResourceQuota, PodSecurity,
# Priority, ...) are on in every harness: k8s.io/kubernetes pkg/kubeapiserver/options/plugins.go.
K3S_ADMISSION_ARGS = ("--enable-admission-plugins=NodeRestriction",)


class KubectlError(subprocess.CalledProcessError):
    """A failed kubectl call whose message carries kubectl's own stderr (readable test failures)."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nkubectl stderr:\n{(self.stderr or '').strip()}"


class KubeHarnessError(RuntimeError):
    """The control plane could not be started or reached; the message carries log tails."""


def required_binaries(controller_manager: bool = True) -> list[Path]:
    """Resolve every binary the harness needs (raises :class:`shai.tools.ToolNotFoundError`)."""
    names = ["etcd", "kube-apiserver"] + (["kube-controller-manager"] if controller_manager else [])
    return [tools.binary(n) for n in names] + [tools.kubectl()]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "  (no log)"
    return "\n".join("  " + line for line in text[-lines:]) or "  (empty log)"


@dataclass
class ProcessInfo:
    """One control-plane process started by the harness."""

    name: str
    pid: int
    log: str
    argv: list[str] = field(default_factory=list)


@dataclass
class ControlPlane:
    """A running control plane. ``stop()`` (or leaving the ``with`` block) tears it all down."""

    name: str
    workdir: Path
    kubeconfig: Path
    server: str
    etcd_url: str
    pki: Pki
    processes: list[ProcessInfo]
    owns_workdir: bool = True
    _popen: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def alive(self) -> dict[str, bool]:
        """Whether each process is still running."""
        return {p.name: self._running(p) for p in self.processes}

    def _running(self, proc: ProcessInfo) -> bool:
        popen = self._popen.get(proc.name)
        if popen is not None:  # our child: poll() (its /proc cmdline is not ours until exec)
            return popen.poll() is None
        return _pid_alive(proc.pid, self.workdir)

    def logs(self, lines: int = 25) -> str:
        """Tails of every process log, for readable failures."""
        return "\n".join(f"--- {p.name} ({p.log}):\n{_tail(Path(p.log), lines)}" for p in self.processes)

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate every process (apiserver first, etcd last) and remove the work dir."""
        for proc in reversed(self.processes):
            _terminate(proc.pid, self.workdir, timeout, self._popen.get(proc.name))
        self.processes.clear()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def save_state(self) -> Path:
        """Persist what ``down``/``status`` need into ``<workdir>/state.json``."""
        state = {
            "name": self.name,
            "workdir": str(self.workdir),
            "kubeconfig": str(self.kubeconfig),
            "server": self.server,
            "etcd_url": self.etcd_url,
            "pki": {k: str(v) for k, v in asdict(self.pki).items()},
            "processes": [asdict(p) for p in self.processes],
        }
        path = self.workdir / STATE_FILE
        path.write_text(json.dumps(state, indent=2) + "\n")
        return path

    # ----------------------------------------------------------------- helpers
    def env(self) -> dict[str, str]:
        """os.environ with KUBECONFIG pointing at this control plane."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl(
        self, *args: str, input: str | bytes | None = None, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl (from the venv) against this control plane; raises with stderr on failure."""
        data = input.decode() if isinstance(input, bytes) else input
        argv = [str(tools.kubectl()), "--kubeconfig", str(self.kubeconfig), *args]
        res = subprocess.run(argv, input=data, capture_output=True, text=True, timeout=timeout, check=False)
        if check and res.returncode != 0:
            raise KubectlError(res.returncode, argv, res.stdout, res.stderr)
        return res

    def apply(self, *paths: str | Path, dry_run: bool = False, field_manager: str = "shai-test") -> str:
        """Server-side apply files/directories (recursively); ``dry_run`` uses ``--dry-run=server``."""
        args = ["apply", "--server-side", "--force-conflicts", f"--field-manager={field_manager}"]
        if dry_run:
            args.append("--dry-run=server")
        for p in paths:
            args += ["-R", "-f", str(p)]
        return self.kubectl(*args).stdout

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` for this control plane."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]

    def dynamic_client(self) -> Any:
        """A ``kubernetes.dynamic.DynamicClient`` for this control plane."""
        from kubernetes import dynamic

        return dynamic.DynamicClient(self.api_client())  # type: ignore[no-untyped-call]

    def create_namespace(self, name: str) -> None:
        """Create a namespace (no error if it exists)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = client.CoreV1Api(self.api_client())
        try:
            api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        except ApiException as exc:
            if exc.status != 409:
                raise

    def in_cluster(
        self,
        namespace: str,
        service_account: str,
        *,
        cluster_role: str = "cluster-admin",
        token_seconds: int = 86400,
    ) -> InCluster:
        """Credentials for running an unmodified in-cluster program (e.g. the sealed-secrets
        ``controller``, which only knows ``rest.InClusterConfig()``) outside the cluster.

        Creates ``namespace`` and ``service_account``, binds it to ``cluster_role``, mints a real
        bound token through the TokenRequest API and writes token/ca.crt/namespace like a pod's
        service-account volume. :meth:`InCluster.wrap` runs a command in a private mount namespace
        where that directory is mounted at ``/var/run/secrets/kubernetes.io/serviceaccount``.
        """
        from shai.kube.in_cluster import service_account_dir

        return service_account_dir(
            self, namespace, service_account, cluster_role=cluster_role, token_seconds=token_seconds
        )

    def register_node(self, name: str, labels: dict[str, str]) -> None:
        """Create (or update) a Ready Node ``name`` with ``labels`` (no kubelet: see node.py)."""
        from shai.kube.node import register_node

        register_node(self, name, labels)

    def wait_ready(self, timeout: float = DEFAULT_TIMEOUT) -> float:
        """Block until ``/readyz`` answers 200; returns seconds waited."""
        return _wait_ready(self, timeout)

    def ssl_context(self) -> ssl.SSLContext:
        """TLS context trusting the harness CA and presenting the admin client certificate."""
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        return ctx


# --------------------------------------------------------------------------- processes
def _pid_alive(pid: int, workdir: Path) -> bool:
    """True if ``pid`` runs and is one of ours (its command line mentions our work dir)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return str(workdir).encode() in cmdline


def _terminate(pid: int, workdir: Path, timeout: float, popen: subprocess.Popen[bytes] | None) -> None:
    if not _pid_alive(pid, workdir):
        if popen is not None:
            popen.poll()
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen is not None and popen.poll() is not None:
            return
        if not _pid_alive(pid, workdir):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(5)


def _spawn(cp: ControlPlane, name: str, argv: Sequence[str], detach: bool) -> subprocess.Popen[bytes]:
    log = cp.workdir / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=cp.workdir,
            start_new_session=detach,
        )
    cp.processes.append(ProcessInfo(name=name, pid=proc.pid, log=str(log), argv=list(argv)))
    cp._popen[name] = proc
    return proc


def _wait_http(
    cp: ControlPlane, url: str, ctx: ssl.SSLContext | None, deadline: float, what: str, timeout: float
) -> None:
    last = "no answer yet"
    while True:
        for p in cp.processes:
            if not cp._running(p):
                raise KubeHarnessError(f"{p.name} exited while waiting for {what} ({url}).\n{cp.logs()}")
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")[-800:]
            last = f"HTTP {exc.code}: {body}"
        except (OSError, ssl.SSLError) as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise KubeHarnessError(
                f"{what} not ready after {timeout:.0f}s ({url}); last answer: {last}\n{cp.logs()}"
            )
        time.sleep(0.2)


def _wait_ready(cp: ControlPlane, timeout: float) -> float:
    start = time.monotonic()
    _wait_http(
        cp, f"{cp.server}/readyz", cp.ssl_context(), start + timeout, "kube-apiserver /readyz", timeout
    )
    return time.monotonic() - start


def _kubeconfig(server: str, pki: Pki, name: str) -> dict[str, Any]:
    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)}}
        ],
        "users": [
            {
                "name": f"{name}-admin",
                "user": {
                    "client-certificate-data": b64(pki.admin_cert),
                    "client-key-data": b64(pki.admin_key),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin"}}],
        "current-context": name,
    }


def start_control_plane(
    name: str = "shai-test",
    workdir: Path | None = None,
    *,
    controller_manager: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    detach: bool = False,
    extra_apiserver_args: Sequence[str] = (),
    service_cidr: str = SERVICE_CIDR,
    workloads: bool = False,
    node: str | None = None,
    node_labels: dict[str, str] | None = None,
) -> ControlPlane:
    """Start etcd + kube-apiserver (+ kube-controller-manager) and wait for ``/readyz``.

    ``service_cidr``: the Service range (k3s's default is ``10.43.0.0/16``; a tree that pins a
    ``clusterIP`` needs the range it was written for).
    ``workloads`` (opt-in, slower) makes it a platform-sized control plane: the admission
    plugins a k3s server enables (:data:`K3S_ADMISSION_ARGS`), the workload controllers
    (:data:`WORKLOAD_CONTROLLERS`) and, when ``node`` is given, a Ready Node labelled like a
    k3s server (:func:`shai.kube.node.k3s_server_labels` plus ``node_labels``).

    ``workdir`` defaults to a new temp dir that :meth:`ControlPlane.stop` removes. ``detach``
    puts the processes in their own session so they outlive the caller (``shai lab kube up``).
    On any failure everything started so far is stopped and :class:`KubeHarnessError` is raised
    with the tail of each log.
    """
    etcd_bin, apiserver_bin, *rest = required_binaries(controller_manager)
    owns = workdir is None
    wd = Path(tempfile.mkdtemp(prefix=f"shai-kube-{name}-")) if workdir is None else workdir
    wd.mkdir(parents=True, exist_ok=True)
    wd = wd.resolve()
    pki = write_pki(wd / "pki")
    api_port, etcd_port, peer_port = _free_port(), _free_port(), _free_port()
    server = f"https://127.0.0.1:{api_port}"
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    kubeconfig = wd / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(_kubeconfig(server, pki, name), sort_keys=False))
    kubeconfig.chmod(0o600)
    cp = ControlPlane(
        name=name,
        workdir=wd,
        kubeconfig=kubeconfig,
        server=server,
        etcd_url=etcd_url,
        pki=pki,
        processes=[],
        owns_workdir=owns,
    )
    start = time.monotonic()
    deadline = start + timeout
    try:
        peer = f"http://127.0.0.1:{peer_port}"
        _spawn(
            cp,
            "etcd",
            [
                str(etcd_bin),
                "--name=shai",
                f"--data-dir={wd / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=shai={peer}",
                "--unsafe-no-fsync",  # throwaway data: fsync only slows tests down
                "--log-level=warn",
            ],
            detach,
        )
        _wait_http(cp, f"{etcd_url}/health", None, deadline, "etcd /health", timeout)
        _spawn(
            cp,
            "kube-apiserver",
            [
                str(apiserver_bin),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",  # loopback cannot be a `kubernetes` Service endpoint
                f"--secure-port={api_port}",
                f"--cert-dir={wd / 'pki'}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                f"--service-cluster-ip-range={service_cidr}",
                "--authorization-mode=RBAC",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
                *(K3S_ADMISSION_ARGS if workloads else ()),
                *extra_apiserver_args,
            ],
            detach,
        )
        _wait_http(cp, f"{server}/readyz", cp.ssl_context(), deadline, "kube-apiserver /readyz", timeout)
        if controller_manager:
            (kcm_bin,) = rest[:1]
            _spawn(
                cp,
                "kube-controller-manager",
                [
                    str(kcm_bin),
                    f"--kubeconfig={kubeconfig}",
                    f"--authentication-kubeconfig={kubeconfig}",
                    f"--authorization-kubeconfig={kubeconfig}",
                    "--controllers="
                    + ",".join(BASE_CONTROLLERS + (WORKLOAD_CONTROLLERS if workloads else ())),
                    "--leader-elect=false",
                    f"--service-account-private-key-file={pki.sa_key}",
                    f"--root-ca-file={pki.ca_cert}",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={_free_port()}",
                    f"--cert-dir={wd / 'pki' / 'kcm'}",
                    "--v=1",
                ],
                detach,
            )
            _wait_default_sa(cp, deadline, timeout)
        if node:
            from shai.kube.node import k3s_server_labels

            cp.register_node(node, k3s_server_labels(node, node_labels))
    except BaseException as exc:
        logs = cp.logs()
        cp.stop()
        if owns:
            shutil.rmtree(wd, ignore_errors=True)
        if isinstance(exc, KubeHarnessError | KeyboardInterrupt):
            raise
        raise KubeHarnessError(f"control plane {name!r} failed to start: {exc}\n{logs}") from exc
    if detach:
        cp.save_state()
    return cp


def _wait_default_sa(cp: ControlPlane, deadline: float, timeout: float) -> None:
    """kube-controller-manager is up once it has created the ``default`` service account."""
    url = f"{cp.server}/api/v1/namespaces/default/serviceaccounts/default"
    _wait_http(
        cp, url, cp.ssl_context(), deadline, "kube-controller-manager (default service account)", timeout
    )


def load_state(workdir: Path) -> ControlPlane:
    """Rebuild a :class:`ControlPlane` handle from ``state.json`` (for ``down``/``status``)."""
    path = workdir / STATE_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KubeHarnessError(f"no control plane state at {path}") from exc
    except json.JSONDecodeError as exc:
        raise KubeHarnessError(f"{path}: unreadable state ({exc})") from exc
    return ControlPlane(
        name=raw["name"],
        workdir=Path(raw["workdir"]),
        kubeconfig=Path(raw["kubeconfig"]),
        server=raw["server"],
        etcd_url=raw["etcd_url"],
        pki=Pki(**{k: Path(v) for k, v in raw["pki"].items()}),
        processes=[ProcessInfo(**p) for p in raw["processes"]],
        owns_workdir=False,
    )
