"""Helpers for the GPU workstation tests: run the collection's playbooks on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def run_playbook(
    playbook: Path, extra_vars: dict[str, Any], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook on localhost (local connection, this venv's python)."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_FORCE_COLOR="false",
        ANSIBLE_NOCOLOR="1",
    )
    variables = {"ansible_python_interpreter": sys.executable, **extra_vars}
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i", "localhost,",
            "-c", "local",
            "-e", json.dumps(variables),
            str(playbook),
        ],
        capture_output=True, text=True, env=env, check=False, cwd=ROOT,
    )  # fmt: skip
    if check and proc.returncode != 0:
        tail = f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        pytest.fail(f"{playbook.name} failed ({proc.returncode}):\n{tail}")
    return proc


def render(root: Path, gpu: bool, **extra: Any) -> Path:
    """Render the units and the firewall files under ``root`` (see render_units.yml)."""
    variables = {
        "render_root": str(root),
        "render_gpu": gpu,
        "lan_firewall_allowed_cidrs": ["192.0.2.170/32", "10.42.0.0/16", "2001:db8::/64"],
        **extra,
    }
    run_playbook(HERE / "render_units.yml", variables)
    return root


@pytest.fixture(scope="session")
def cpu_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units and firewall files rendered once for a CPU-only host."""
    return render(tmp_path_factory.mktemp("cpu"), False, comfyui_systemd_ip_address_allow=["192.0.2.170/32"])


@pytest.fixture(scope="session")
def gpu_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units and firewall files rendered once for a host with an NVIDIA GPU."""
    return render(tmp_path_factory.mktemp("gpu"), True, comfyui_systemd_ip_address_allow=["192.0.2.170/32"])
