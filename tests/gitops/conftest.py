"""Fixtures of the gitops tests: the fixed test inventory, rendered trees, a real git daemon."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# --import-mode=importlib: make this directory's helper modules (gitops_*.py) importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gitops_helpers import GPU_INVENTORIES, INVENTORY, REPO

from shai.gitops import core


@pytest.fixture(scope="session")
def layout() -> core.Layout:
    return core.Layout.default(REPO)


@pytest.fixture(scope="session")
def values(layout: core.Layout) -> dict[str, object]:
    return core.load_values(layout, core.inventory_vars(INVENTORY))


@pytest.fixture(scope="session")
def rendered(layout: core.Layout, values: dict[str, object]) -> dict[str, bytes]:
    return core.render(layout, values)


@pytest.fixture(scope="session")
def gpu_trees(
    layout: core.Layout, values: dict[str, object], rendered: dict[str, bytes]
) -> dict[int, tuple[dict[str, object], dict[str, bytes]]]:
    """{number of GPU workstations: (values, rendered tree)} of the test inventory with 1, 2 and 3
    GPU workstations (gitops_helpers.GPU_INVENTORIES; ADR 0310)."""
    out: dict[int, tuple[dict[str, object], dict[str, bytes]]] = {1: (values, rendered)}
    for count, inventory in GPU_INVENTORIES.items():
        if count not in out:
            more = core.load_values(layout, core.inventory_vars(inventory))
            out[count] = (more, core.render(layout, more))
    return out


@pytest.fixture
def tree(tmp_path: Path, rendered: dict[str, bytes]) -> Path:
    """A fresh, writable copy of the rendered test tree, with the catalog's SealedSecrets
    (placeholders, gitops_sealed.py): a tree without any is a secret-refs finding."""
    from gitops_sealed import add_sealed_secrets

    out = tmp_path / "tree"
    core.write(rendered, out)
    add_sealed_secrets(out)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[str]:
    """A real `git daemon` on loopback serving one empty bare repo, pushes enabled.

    Yields the git:// URL of the repo.
    """
    base = tmp_path / "srv"
    base.mkdir()
    bare = base / "platform.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch", "main", str(bare)], check=True)
    port = _free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={base}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"git://127.0.0.1:{port}/platform.git"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["git", "ls-remote", url], capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("git daemon did not come up")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
