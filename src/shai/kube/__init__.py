"""A real Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager) for tests and
the lab, built from pinned Go modules by ``tools/build.sh``. See docs/kube-harness.md."""

from shai.kube.harness import ControlPlane, KubeHarnessError, start_control_plane

__all__ = ["ControlPlane", "KubeHarnessError", "start_control_plane"]
