"""Run an unmodified in-cluster program (one that only knows ``rest.InClusterConfig()``)
outside the cluster, against a harness control plane: ``ControlPlane.in_cluster()``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shai.kube.harness import ControlPlane

__all__ = ["InCluster", "service_account_dir"]

_IN_CLUSTER_SCRIPT = """set -e
mount -t tmpfs -o mode=0755 shai-in-cluster /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
mount --bind "$SHAI_SA_DIR" /run/secrets/kubernetes.io/serviceaccount
exec "$@"
"""


@dataclass(frozen=True)
class InCluster:
    """A pod-like service-account environment for a program that only runs in-cluster."""

    sa_dir: Path
    env: dict[str, str]

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run in a private mount namespace (private /run with the SA volume mounted).

        As root this is ``unshare --mount``; otherwise a user namespace maps the caller to root.
        """
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        ns = ["--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            ns = ["--user", "--map-root-user", *ns]
        return [unshare, *ns, "--", "/bin/sh", "-c", _IN_CLUSTER_SCRIPT, "shai-in-cluster", *argv]

    def environ(self) -> dict[str, str]:
        """os.environ plus the in-cluster variables (pass as ``env=`` with :meth:`wrap`)."""
        return {**os.environ, **self.env, "SHAI_SA_DIR": str(self.sa_dir)}


def service_account_dir(
    cp: ControlPlane,
    namespace: str,
    service_account: str,
    *,
    cluster_role: str = "cluster-admin",
    token_seconds: int = 86400,
) -> InCluster:
    """See :meth:`shai.kube.harness.ControlPlane.in_cluster`."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from shai.kube.harness import KubeHarnessError

    api = cp.api_client()
    core = client.CoreV1Api(api)
    cp.create_namespace(namespace)
    try:
        core.create_namespaced_service_account(
            namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=service_account))
        )
    except ApiException as exc:
        if exc.status != 409:
            raise
    binding = f"shai-harness:{namespace}:{service_account}"
    try:
        client.RbacAuthorizationV1Api(api).create_cluster_role_binding(
            client.V1ClusterRoleBinding(
                metadata=client.V1ObjectMeta(name=binding),
                role_ref=client.V1RoleRef(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=cluster_role
                ),
                subjects=[
                    client.RbacV1Subject(kind="ServiceAccount", name=service_account, namespace=namespace)
                ],
            )
        )
    except ApiException as exc:
        if exc.status != 409:
            raise
    req = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=token_seconds)
    )
    resp = core.create_namespaced_service_account_token(service_account, namespace, req)
    token = str(resp.status.token) if resp.status is not None else ""
    if not token:
        raise KubeHarnessError(f"TokenRequest for {namespace}/{service_account} returned no token")
    sa_dir = cp.workdir / "in-cluster" / f"{namespace}.{service_account}"
    sa_dir.mkdir(parents=True, exist_ok=True)
    (sa_dir / "token").write_text(token)
    (sa_dir / "token").chmod(0o600)
    shutil.copyfile(cp.pki.ca_cert, sa_dir / "ca.crt")
    (sa_dir / "namespace").write_text(namespace)
    port = cp.server.rsplit(":", 1)[1]
    env = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": port,
        "POD_NAMESPACE": namespace,
    }
    return InCluster(sa_dir=sa_dir, env=env)
