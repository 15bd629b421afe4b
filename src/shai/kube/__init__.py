"""A real Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager) for tests and
the lab, built from pinned Go modules by ``tools/build.sh``. See docs/kube-harness.md.

The names below come from ``shai.kube.harness`` on first use: importing the package (e.g. for
``shai lab kube --help``) does not import the harness and its cryptography (docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shai.kube.harness import ControlPlane, KubeHarnessError, start_control_plane

__all__ = ["ControlPlane", "KubeHarnessError", "start_control_plane"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from shai.kube import harness

        return getattr(harness, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
