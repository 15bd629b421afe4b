"""Run a list of tasks in a play on localhost with the collection, and read back what they registered.

The tasks are given as data; the last task written saves the fact ``results`` (which the caller's
tasks set) as JSON, and that is returned. The system python3 runs the modules (Debian's
python3-apt for apt), the collection comes from the checkout (.cache/collections).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_tasks(tmp_path: Path, tasks: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    """Run ``tasks`` (which must set the fact ``results``) and return ``results``; assert rc 0."""
    out = tmp_path / "results.json"
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                *tasks,
                # also in check mode: the results are the test's, not the host's
                {
                    "ansible.builtin.copy": {"content": "{{ results | to_json }}", "dest": str(out)},
                    "check_mode": False,
                },
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(json.dumps(play))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
    )
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local"]
    argv += ["-e", "ansible_python_interpreter=/usr/bin/python3", *extra, str(tmp_path / "play.yml")]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return dict(json.loads(out.read_text()))
