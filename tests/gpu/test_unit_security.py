"""The ollama and comfyui units: settings and `systemd-analyze security` exposure (target <= 4.5).

Rendered from the roles' templates with their defaults and scored offline
(`systemd-analyze security --offline=true --root=...`), for the CPU and the GPU variants.
The molecule scenario gpu_workstation prints the scores of the live units on a lab host too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

TARGET = 4.5
UNITS = ("ollama.service", "comfyui.service")


def _offline_supported() -> bool:
    if shutil.which("systemd-analyze") is None:
        return False
    out = subprocess.run(
        ["systemd-analyze", "security", "--help"], capture_output=True, text=True, check=False
    )
    return "--offline" in out.stdout


def exposure(root: Path, unit: str) -> float:
    proc = subprocess.run(
        ["systemd-analyze", "security", "--no-pager", "--offline=true", f"--root={root}", unit],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout + proc.stderr)
    assert match, f"no exposure line for {unit}:\n{proc.stdout}\n{proc.stderr}"
    return float(match.group(1))


@pytest.mark.skipif(not _offline_supported(), reason="systemd-analyze security --offline not available")
@pytest.mark.parametrize("gpu", [False, True], ids=["cpu", "gpu"])
def test_exposure(request: pytest.FixtureRequest, gpu: bool) -> None:
    tree: Path = request.getfixturevalue("gpu_tree" if gpu else "cpu_tree")
    scores = {unit: exposure(tree, unit) for unit in UNITS}
    for unit, score in scores.items():
        print(f"systemd-analyze security {unit} ({'GPU' if gpu else 'CPU'} variant): exposure {score}")
    assert all(score <= TARGET for score in scores.values()), scores


def _unit(root: Path, name: str) -> str:
    return (root / "etc/systemd/system" / name).read_text()


def test_ollama_override_carries_the_settings(cpu_tree: Path) -> None:
    text = _unit(cpu_tree, "ollama.service.d/override.conf")
    for name in (
        "OLLAMA_HOST=10.213.0.2:11434",
        "OLLAMA_MODELS=/var/lib/ollama/models",
        "OLLAMA_KEEP_ALIVE=",
        "OLLAMA_NUM_PARALLEL=",
        "OLLAMA_MAX_LOADED_MODELS=",
        "OLLAMA_FLASH_ATTENTION=1",
        "OLLAMA_KV_CACHE_TYPE=q8_0",
        "OLLAMA_ORIGINS=",
    ):
        assert f'Environment="{name}' in text, name
    assert "0.0.0.0" not in text
    assert text.startswith("#")


def test_gpu_variant_orders_after_the_nvidia_modules(gpu_tree: Path) -> None:
    for unit in ("ollama.service", "comfyui.service"):
        text = _unit(gpu_tree, unit)
        assert re.search(r"^After=.*systemd-modules-load\.service.*nvidia-persistenced\.service", text, re.M)
        assert "ExecStartPre=+/usr/bin/nvidia-modprobe -u -c=0" in text
        assert "DevicePolicy=closed" in text and "DeviceAllow=char-nvidia-uvm rw" in text
        assert "PrivateDevices=no" in text


def test_cpu_variant_has_no_devices(cpu_tree: Path) -> None:
    ollama = _unit(cpu_tree, "ollama.service")
    comfyui = _unit(cpu_tree, "comfyui.service")
    assert "PrivateDevices=yes" in ollama and "PrivateDevices=yes" in comfyui
    assert "nvidia" not in ollama.split("[Service]")[1]
    assert "--cpu" in comfyui
    assert "--listen 10.213.0.2 --port 8188" in comfyui
    assert "IPAddressDeny=any" in comfyui and "IPAddressAllow=localhost 10.213.0.2 192.0.2.170/32" in comfyui
