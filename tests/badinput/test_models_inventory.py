"""`shai-models diff -i hosts.yml` reads the caller's ./hosts.yml (issue 14, class 1).

Before the fix the relative path was handed to ansible-playbook running in the collection root:
no host matched, and diff printed an empty table with exit 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from harness import run_cli, tree_digest

REPO = Path(__file__).resolve().parents[2]


def test_relative_inventory_file_and_directory_are_the_callers(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "inv").mkdir(parents=True)
    (ws / "inv" / "hosts.yml").write_text(
        "all:\n  children:\n    gpu_workstation:\n      hosts:\n        box:\n"
        f"          ansible_connection: local\n          ansible_python_interpreter: {sys.executable}\n"
    )
    manifest = {
        "shai_models": {
            "targets": {
                "gpu": {
                    "hosts": "gpu_workstation",
                    "root": str(tmp_path / "models"),
                    "files": [
                        {"name": "x", "url": "http://127.0.0.1:9/x.bin", "sha256": "ab" * 32, "dest": "up"}
                    ],
                }
            }
        }
    }
    (ws / "inv" / "models.yml").write_text(yaml.safe_dump(manifest))
    before = tree_digest(ws)
    env = {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    for inventory in ("inv/hosts.yml",):  # a directory: tests/badinput/test_cli_badinput.py
        outcome = run_cli("shai-models", ["diff", "-i", inventory, "--json"], cwd=ws, env=env)
        assert "Traceback" not in outcome.output and outcome.code == 1, outcome.output  # 1: would change
        items = json.loads(outcome.stdout)["items"]
        assert [(i["host"], i["name"], i["status"]) for i in items] == [("box", "x:x.bin", "would-change")]
    assert tree_digest(ws) == before
    assert not (tmp_path / "models").exists()  # check mode
