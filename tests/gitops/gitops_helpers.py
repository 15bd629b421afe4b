"""Shared constants and helpers of the gitops tests (imported by the test modules)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from shai.gitops import core

HERE = Path(__file__).resolve().parent
INVENTORY = HERE / "inventory" / "hosts.yml"  # models.yml beside it is the models manifest
GOLDEN = HERE / "golden"
# The test inventory with 1, 2 and 3 GPU workstations (ADR 0310) and its golden tree: golden/ for
# one host; for more, gpu<N>/golden/ holds only the files that differ from golden/.
GPU_INVENTORIES = {
    1: INVENTORY,
    2: HERE / "inventory" / "hosts-gpu2.yml",
    3: HERE / "inventory" / "hosts-gpu3.yml",
}
GPU_GOLDENS = {1: GOLDEN, 2: HERE / "gpu2" / "golden", 3: HERE / "gpu3" / "golden"}
REPO = core.repo_root()


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git as a separate 'other user' (its own identity); return stdout."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "other",
        "GIT_AUTHOR_EMAIL": "other@example.test",
        "GIT_COMMITTER_NAME": "other",
        "GIT_COMMITTER_EMAIL": "other@example.test",
    }
    res = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return res.stdout.strip()
