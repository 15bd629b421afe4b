"""playbooks/restore.yml picks the snapshot the operator named (roles/k3s/tasks/restore.yml).

Runs the role's own `find` + `set_fact` tasks (read from the task file, not copied) on localhost
against a directory of snapshot files with known modification times; nothing is restored here
(the restore itself: tests/kube/test_k3s_snapshot.py, against the k3s test double).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "roles" / "k3s" / "tasks" / "restore.yml"
WANTED = {
    "latest": "etcd-snapshot-n-300.zip",
    "on-demand-n-200": "on-demand-n-200",
    "etcd-snapshot-n-100": "etcd-snapshot-n-100.zip",  # ls prints it with .zip; both work
    "etcd-snapshot-n-100.zip": "etcd-snapshot-n-100.zip",
    "etcd-snapshot-n": "",  # a prefix is not a name
    "no-such": "",
}


def _task(tasks: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    task = next(t for t in tasks if t["name"].startswith(prefix))
    return {k: v for k, v in task.items() if k != "when"}


def test_latest_and_named_snapshots(tmp_path: Path) -> None:
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    for i, name in enumerate(["etcd-snapshot-n-100.zip", "on-demand-n-200", "etcd-snapshot-n-300.zip"]):
        (snaps / name).write_bytes(b"x")
        os.utime(snaps / name, (1_765_000_000 + i * 3600, 1_765_000_000 + i * 3600))
    (snaps / "etcd-snapshot-n-400.part").write_bytes(b"")  # a save in progress is never chosen
    tasks = yaml.safe_load(TASKS.read_text())
    find, choose = _task(tasks, "Restore | list the snapshots"), _task(tasks, "Restore | choose the snapshot")
    plays = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {"k3s_restore_snapshot": wanted, "__k3s_etcd_snapshot_dir": str(snaps)},
            "tasks": [
                find,
                choose,
                {
                    "ansible.builtin.debug": {
                        "msg": "CHOSE {{ k3s_restore_snapshot }}={{ __k3s_restore_path }}"
                    }
                },
            ],
        }
        for wanted in WANTED
    ]
    playbook = tmp_path / "choose.yml"
    playbook.write_text(yaml.safe_dump(plays))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
        capture_output=True, text=True, env=env, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    chosen = dict(re.findall(r"CHOSE ([^=\s]*)=([^\s\"']*)", proc.stdout))
    assert {k: Path(v).name if v else "" for k, v in chosen.items()} == WANTED
