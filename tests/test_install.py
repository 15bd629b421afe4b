"""The CLI installs like a tool and works outside the checkout (issue 15, ADR 0006).

``uv build --wheel`` then ``uv tool install`` of that wheel into a scratch tool directory; the
commands run from another directory with none of the checkout's environment (no
ANSIBLE_COLLECTIONS_PATH, no .cache/collections link): the shared implementation must come from
the wheel itself. Dependencies come from PyPI through uv's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _uv() -> str:
    found = subprocess.run([str(ROOT / "scripts" / "uv.sh")], capture_output=True, text=True).stdout.strip()
    uv = found or shutil.which("uv")
    if not uv:
        pytest.skip("uv is not installed")
    return uv


def _clean_env(tmp: Path) -> dict[str, str]:
    drop = ("ANSIBLE_", "VIRTUAL_ENV", "PYTHONPATH", "SHAI_", "UV_PROJECT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in ("FORCE_COLOR", "TERM")}
    env |= {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"}
    env |= {"UV_TOOL_DIR": str(tmp / "tools"), "UV_TOOL_BIN_DIR": str(tmp / "bin"), "HOME": str(tmp / "home")}
    env["PATH"] = f"{tmp / 'bin'}:{env.get('PATH', '')}"
    env["UV_CACHE_DIR"] = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
    return env


def test_wheel_installs_as_a_tool_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    uv = _uv()
    env = _clean_env(tmp_path)
    (tmp_path / "home").mkdir()
    subprocess.run(
        [uv, "build", "--wheel", "-q", "-o", str(tmp_path / "dist"), str(ROOT)], env=env, check=True
    )
    wheel = next((tmp_path / "dist").glob("shai-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ansible_collections/vectorweight/shai/plugins/module_utils/errors.py" in names
    assert "ansible_collections/vectorweight/shai/roles/k3s/defaults/main.yml" in names
    assert "shai/example_inventory/hosts.yml" in names
    assert not [
        n for n in names if "inventories/homelab" in n or n.startswith("tests/") or "__pycache__" in n
    ]

    # The tool venv is built on the interpreter this test runs on (Python 3.12, pyproject).
    install = [uv, "tool", "install", "-q", "--python", sys._base_executable, str(wheel)]
    subprocess.run(install, env=env, check=True, cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True, timeout=120)

    assert run("shai", "--version").stdout.strip() == "shai 0.1.0"
    assert run("shai-models", "--version").stdout.strip() == "shai-models 0.1.0"
    helped = run("shai-secrets", "--help")
    text = re.sub(r"\x1b\[[0-9;]*m", "", helped.stdout)  # in case a terminal setting forced colour
    assert helped.returncode == 0 and "Usage: shai-secrets" in text, helped.stderr
    listed = run("shai", "doctor", "--list")
    assert listed.returncode == 0 and "k3s-pin" in listed.stdout, listed.stderr
    made = run(
        "shai", "init", "home", "--domain", "example.org", "--server", "192.0.2.10", "--gpu", "192.0.2.20"
    )
    assert made.returncode == 0, made.stderr
    assert (work / "inventories" / "home" / "group_vars" / "all" / "main.yml").is_file()
    # The installed doctor reads the installed collection's role defaults (the k3s pin).
    checked = run("shai", "doctor", "--offline", "--check", "k3s-pin", "-i", "inventories/home")
    assert checked.returncode == 0, checked.stdout + checked.stderr
