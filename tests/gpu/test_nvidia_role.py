"""The nvidia role against a GPU TEST DOUBLE.

No GPU exists in CI, so each case builds a fixture tree shaped like the real thing: PCI devices
under sys/bus/pci/devices (vendor/class files), the kernel module banner at
proc/driver/nvidia/version, sys/module/nvidia_uvm, and fake ``nvidia-smi``/``modinfo`` printing
what the real ones print on an RTX 5080. The role reads them through its ``__nvidia_root`` and
``__nvidia_path`` test hooks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import HERE, run_playbook

OPEN_BANNER = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.07  Release Build  "
    "(dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 07:18:25 UTC 2025\nGCC version:  gcc version 12.2.0\n"
)
PROPRIETARY_BANNER = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.133.07  Fri Mar 14 06:37:21 UTC 2025\n"
    "GCC version:  gcc version 12.2.0\n"
)
SMI_5080 = "NVIDIA GeForce RTX 5080, {driver}, 12.0, 16303, 00000000:01:00.0"


def gpu_double(
    root: Path,
    gpu: bool = True,
    banner: str | None = OPEN_BANNER,
    driver: str = "570.133.07",
    license_: str = "Dual MIT/GPL",
    uvm: bool = True,
) -> Path:
    devices = root / "sys/bus/pci/devices"
    pci = {"0000:00:02.0": ("0x8086", "0x030000")}  # an Intel iGPU: never counted
    if gpu:
        pci["0000:01:00.0"] = ("0x10de", "0x030000")
        pci["0000:01:00.1"] = ("0x10de", "0x040300")  # the card's HDMI audio function
    for slot, (vendor, cls) in pci.items():
        (devices / slot).mkdir(parents=True)
        (devices / slot / "vendor").write_text(vendor + "\n")
        (devices / slot / "class").write_text(cls + "\n")
    if banner is not None:
        (root / "proc/driver/nvidia").mkdir(parents=True)
        (root / "proc/driver/nvidia/version").write_text(banner)
    if uvm:
        (root / "sys/module/nvidia_uvm").mkdir(parents=True)
    bindir = root / "bin"
    bindir.mkdir()
    for name, out in (("nvidia-smi", SMI_5080.format(driver=driver)), ("modinfo", license_)):
        (bindir / name).write_text(f"#!/bin/sh\necho '{out}'\n")
        (bindir / name).chmod(0o755)
    return root


def run_role(root: Path, **extra: object) -> tuple[int, str, dict[str, object]]:
    facts = root / "facts.json"
    proc = run_playbook(
        HERE / "nvidia_double.yml",
        {
            "__nvidia_root": str(root),
            "__nvidia_path": f"{root / 'bin'}:/usr/bin:/bin",
            "facts_out": str(facts),
            **extra,
        },
        check=False,
    )
    data = json.loads(facts.read_text()) if facts.is_file() else {}
    return proc.returncode, proc.stdout, data


def test_open_modules_and_570_pass(tmp_path: Path) -> None:
    rc, out, facts = run_role(gpu_double(tmp_path), nvidia_require_gpu=True)
    assert rc == 0, out[-3000:]
    assert facts["present"] is True and facts["open"] is True and facts["uvm"] is True
    assert facts["driver"] == "570.133.07"
    assert facts["gpus"] == [
        {
            "name": "NVIDIA GeForce RTX 5080",
            "driver_version": "570.133.07",
            "compute_cap": "12.0",
            "memory_total_mib": "16303",
            "pci_bus_id": "00000000:01:00.0",
        }
    ]


def test_proprietary_modules_fail_with_the_fix(tmp_path: Path) -> None:
    rc, out, _ = run_role(gpu_double(tmp_path, banner=PROPRIETARY_BANNER, license_="NVIDIA"))
    assert rc != 0
    assert "PROPRIETARY NVIDIA kernel module is loaded" in out
    assert "apt install nvidia-open" in out and "reboot" in out


def test_old_driver_fails_with_the_fix(tmp_path: Path) -> None:
    banner = OPEN_BANNER.replace("570.133.07", "565.57.01")
    rc, out, _ = run_role(gpu_double(tmp_path, banner=banner, driver="565.57.01"))
    assert rc != 0
    assert "565.57.01 is older than" in out and "570" in out


def test_gpu_without_loaded_module_fails(tmp_path: Path) -> None:
    rc, out, _ = run_role(gpu_double(tmp_path, banner=None))
    assert rc != 0
    assert "no NVIDIA kernel module is loaded" in out


@pytest.mark.parametrize("required", [False, True], ids=["cpu-host", "gpu-required"])
def test_no_gpu(tmp_path: Path, required: bool) -> None:
    rc, out, facts = run_role(gpu_double(tmp_path, gpu=False, banner=None), nvidia_require_gpu=required)
    if required:
        assert rc != 0 and "no NVIDIA GPU on the PCI bus" in out
    else:
        assert rc == 0, out[-3000:]
        assert facts["present"] is False and facts["gpus"] == []
