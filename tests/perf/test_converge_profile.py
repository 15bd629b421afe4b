"""The converge_profile callback times every task and sums it per task and role over hosts.

Runs the real ansible-playbook on two local hosts (connection=local) with the callback enabled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PLAYBOOK = """
- name: Profiled play
  hosts: all
  gather_facts: false
  tasks:
    - name: Sleep a little
      ansible.builtin.command: sleep 0.3
      changed_when: false
    - name: Quick one
      ansible.builtin.debug:
        msg: hi
    - name: Include a role
      ansible.builtin.include_role:
        name: slowrole
"""

ROLE_TASKS = """
- name: Role task
  ansible.builtin.command: sleep 0.2
  changed_when: true
"""


def test_profile_sums_tasks_over_hosts(tmp_path: Path) -> None:
    (tmp_path / "roles" / "slowrole" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "slowrole" / "tasks" / "main.yml").write_text(ROLE_TASKS)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.ini").write_text(
        "h1 ansible_connection=local\nh2 ansible_connection=local\n[all:vars]\n"
        f"ansible_python_interpreter={sys.executable}\n"
    )
    out = tmp_path / "profile.json"
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_ROLES_PATH=str(tmp_path / "roles"),
        ANSIBLE_CALLBACKS_ENABLED="vectorweight.shai.converge_profile",
        SHAI_PROFILE_OUTPUT=str(out),
        SHAI_PROFILE_TOP="5",
    )
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "hosts.ini", "play.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CONVERGE PROFILE" in proc.stdout
    data = json.loads(out.read_text())
    by_name = {t["task"]: t for t in data["top_tasks"]}
    sleep = by_name["Sleep a little"]
    assert sleep["hosts"] == ["h1", "h2"]
    assert sleep["seconds"] >= 0.6  # 0.3 s on each of two hosts, summed
    role_task = by_name["Role task"]
    assert role_task["role"] == "slowrole" and role_task["changed"] == 2
    assert {r["role"] for r in data["roles"]} >= {"slowrole", "(play tasks)"}
    assert [p["play"] for p in data["plays"]] == ["Profiled play"]
    assert data["wall_seconds"] > 0 and data["tasks_timed"] >= 3
