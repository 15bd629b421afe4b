"""Shared fixtures: real peer binaries and a real Kubernetes API server (session scope).

Missing binaries (``make tools`` / ``tools/build.sh`` not run) SKIP the tests that need them,
unless ``SHAI_REQUIRE_PEERS`` is set (CI sets it): then they FAIL. This file imports nothing
heavy at module level so it stays importable without the binaries.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from shai.kube.harness import ControlPlane


def _missing(reason: str) -> None:
    if os.environ.get("SHAI_REQUIRE_PEERS"):
        pytest.fail(f"SHAI_REQUIRE_PEERS is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def peer() -> Callable[[str], Path]:
    """``peer("kubeseal")`` -> Path of a built peer binary (skips/fails when it is missing)."""
    from shai import tools

    def resolve(name: str) -> Path:
        try:
            return tools.binary(name)
        except tools.ToolNotFoundError as exc:
            _missing(str(exc))
            raise  # unreachable: _missing skips or fails

    return resolve


@pytest.fixture(scope="session")
def kube_apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A real etcd + kube-apiserver + kube-controller-manager on loopback, for the whole session.

    Yields :class:`shai.kube.harness.ControlPlane`: ``.kubeconfig`` (Path), ``.server`` (URL),
    ``.kubectl(*args)``, ``.apply(*paths, dry_run=False)``, ``.api_client()``,
    ``.dynamic_client()``, ``.create_namespace(name)``. Tests should work in their own namespaces.
    """
    from shai import tools
    from shai.kube.harness import required_binaries, start_control_plane

    try:
        required_binaries()
    except tools.ToolNotFoundError as exc:
        _missing(str(exc))
    workdir = tmp_path_factory.mktemp("kube-apiserver")
    # k3s's Service range: the GitOps tree pins a ClusterIP in it (gitops_ollama_cluster_ip)
    cp = start_control_plane("pytest", workdir, service_cidr="10.43.0.0/16")
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def kube_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane like a k3s server's (opt-in, slower than ``kube_apiserver``).

    k3s's admission plugins, the workload controllers (deployment, replicaset, statefulset,
    daemonset, job, cronjob, resourcequota) and a Ready Node ``homelab`` labelled like the
    homelab's k3s server (no kubelet: Pods stay Pending). See docs/kube-harness.md.
    """
    import yaml

    from shai import tools
    from shai.kube.harness import required_binaries, start_control_plane
    from shai.kube.node import parse_labels

    try:
        required_binaries()
    except tools.ToolNotFoundError as exc:
        _missing(str(exc))
    workdir = tmp_path_factory.mktemp("kube-platform")
    k3s_vars = Path(__file__).resolve().parents[1] / "inventories/homelab/group_vars/k3s_cluster/k3s.yml"
    homelab = yaml.safe_load(k3s_vars.read_text())
    labels = parse_labels(homelab.get("k3s_node_labels") or [], str(k3s_vars))
    cidr = homelab.get("k3s_service_cidr", "10.43.0.0/16")
    cp = start_control_plane(
        "platform", workdir, service_cidr=cidr, workloads=True, node="homelab", node_labels=labels
    )
    try:
        yield cp
    finally:
        cp.stop()
