"""``shai doctor`` as the operator runs it: the homelab offline (never online: nothing in a test
connects to the homelab's addresses), JSON, the exit codes of docs/cli.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHAI = str(Path(sys.executable).parent / "shai")

# What a fresh clone still needs before the homelab's first run (docs/quickstart.md): the vault
# (password, keygen, generate, seal + commit) and the pins only the operator can look up.
HOMELAB_NEEDS = {"vault", "sealing-key", "secrets", "model-pins", "comfyui-pin", "ollama-pin"}


def doctor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    unset = ("SHAI_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    argv = [SHAI, "doctor", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_homelab_offline_lists_what_a_first_run_needs() -> None:
    done = doctor("--offline", "--json", "-i", "inventories/homelab")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    failed = [f for f in report["findings"] if f["status"] == "fail"]
    assert {f["check"] for f in failed} == HOMELAB_NEEDS
    assert all(f["fix"] for f in failed), "every failure names the command that fixes it"
    # --offline: nothing that needs the network ran (ssh, dns, disk would reach the homelab).
    online = {
        f["check"]: f["status"] for f in report["findings"] if f["check"] in {"ssh", "dns", "model-disk"}
    }
    assert online == {"ssh": "skip", "dns": "skip", "model-disk": "skip"}
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in done.stderr


def test_homelab_offline_table_prints_fixes_in_order() -> None:
    done = doctor("--offline", "-i", "inventories/homelab/hosts.yml")  # a file works like the directory
    assert done.returncode == 1
    fixes = done.stdout.split("To fix, in order:")[1]
    assert fixes.index("keygen") < fixes.index("generate") < fixes.index("shai-models pin")


def test_missing_inventory_is_one_error_line(tmp_path: Path) -> None:
    done = doctor("--offline", "-i", str(tmp_path / "nope"))
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: inventory {tmp_path / 'nope'} does not exist"


def test_unknown_check_is_an_error() -> None:
    done = doctor("--offline", "-i", "inventories/homelab", "--check", "no-such-check")
    assert done.returncode == 1
    assert "unknown check(s): no-such-check" in done.stderr
    assert "Traceback" not in done.stderr


def test_list_names_every_check() -> None:
    done = doctor("--list")
    assert done.returncode == 0
    ids = [line.split()[0] for line in done.stdout.splitlines()]
    assert ids == [
        "vault", "sealing-key", "secrets", "model-pins", "comfyui-pin", "ollama-pin",
        "k3s-pin", "inventory-groups", "ssh", "dns", "model-disk",
    ]  # fmt: skip
