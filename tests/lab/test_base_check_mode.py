"""The base role's check mode is truthful on a real lab host: a --check run on a fresh host
predicts exactly the tasks a real run then changes, and after the real run --check predicts
nothing. Run with: pytest -m lab tests/lab
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shai.lab import inventory as inv
from shai.lab.lab import Lab, repo_root

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("systemd-nspawn") is None, reason="needs root and systemd-nspawn"
    ),
]

PLAYBOOK = """\
- name: Base
  hosts: all
  gather_facts: true
  roles:
    - role: vectorweight.shai.base
"""


def _changed_tasks(inventory: str, playbook: Path, *extra: str) -> list[str]:
    root = repo_root()
    bindir = Path(sys.executable).parent
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(root / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_COLLECTIONS_PATH=str(root / ".cache" / "collections"),
        PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    cmd = [str(bindir / "ansible-playbook"), str(playbook), "-i", inventory, *extra]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    changed: set[str] = set()
    task = ""
    for line in proc.stdout.splitlines():
        if m := re.match(r"^(TASK|RUNNING HANDLER) \[(.*)\]", line):
            task = m.group(2) if m.group(1) == "TASK" else ""
        elif task and (m := re.match(r"^changed: \[([^\]]+)\]", line)):
            changed.add(f"{m.group(1)}: {task}")
    return sorted(changed)


def test_check_mode_predicts_the_real_run(tmp_path: Path) -> None:
    playbook = tmp_path / "base.yml"
    playbook.write_text(PLAYBOOK)
    lab = Lab("base-check")
    try:
        state = lab.up([inv.parse_host_spec("node:k3s_server")])
        predicted = _changed_tasks(state.inventory, playbook, "--check", "--diff")
        actual = _changed_tasks(state.inventory, playbook)
        assert predicted == actual
        assert actual, "a fresh host must need changes"
        assert _changed_tasks(state.inventory, playbook, "--check") == []
        assert _changed_tasks(state.inventory, playbook) == []
    finally:
        lab.down()
