"""The modules through ansible-playbook (real Ansible, real git daemon): changed, idempotent, check mode."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gitops_helpers import HERE, INVENTORY, REPO


def _play(tree: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0"}
    argv = [
        str(REPO / ".venv" / "bin" / "ansible-playbook"),
        "-i",
        str(INVENTORY),
        "-c",
        "local",
        "-e",
        f"tree_dir={tree}",
        "-e",
        f"repo_url={url}",
        str(HERE / "playbooks" / "render_seed.yml"),
        *extra,
    ]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_modules_render_seed_idempotent_and_check_mode(git_daemon: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    check = _play(tree, git_daemon, "--check", "--diff")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RESULT render_changed=True" in check.stdout
    assert not tree.exists()  # check mode wrote nothing
    assert "validation=done" in check.stdout
    assert not Path(f"{tree}.validated.json").exists()  # check mode keeps no validation either
    first = _play(tree, git_daemon)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "RESULT render_changed=True seed_changed=True pushed=True" in first.stdout
    second = _play(tree, git_daemon, "--diff")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "RESULT render_changed=False seed_changed=False pushed=False" in second.stdout
    assert "changed=0" in second.stdout
    # Nothing the validation depends on changed: the first run's passing result stands.
    assert "validation=cached" in second.stdout
    assert "validation=done" in first.stdout
    # Another value is another tree: validated again (and the cached result is not reused).
    third = _play(tree, git_daemon, "-e", "gitops_litellm_timeout=121")
    assert third.returncode == 0, third.stdout + third.stderr
    assert "render_changed=True" in third.stdout and "validation=done" in third.stdout
