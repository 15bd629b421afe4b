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
    cp = start_control_plane("pytest", workdir)
    try:
        yield cp
    finally:
        cp.stop()
