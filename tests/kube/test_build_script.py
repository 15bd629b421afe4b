"""tools/build.sh argument handling (no Go build is started here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "tools" / "build.sh"


def test_unknown_target_is_an_error(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([str(BUILD), "nonsense"], capture_output=True, text=True, env=env)
    assert res.returncode != 0
    assert "unknown target 'nonsense'" in res.stderr


def test_help_lists_targets() -> None:
    res = subprocess.run([str(BUILD), "--help"], capture_output=True, text=True, check=True)
    for target in ("k3s", "kube", "sealed-secrets", "ollama", "k3s-mirror"):
        assert target in res.stdout


def test_k3s_mirror_needs_the_double(tmp_path: Path) -> None:
    env = {"PATH": "/usr/local/go/bin:/usr/bin:/bin", "HOME": str(tmp_path), "SHAI_CACHE": str(tmp_path)}
    res = subprocess.run([str(BUILD), "k3s-mirror"], capture_output=True, text=True, env=env)
    assert res.returncode != 0
    assert "k3s test double not built (run: tools/build.sh k3s)" in res.stderr
    assert not (tmp_path / "mirror").exists()
