"""Drift on real lab hosts: converge, drift by hand, check, real run (matrix test + benchmark).

A lab host in no platform group gets only the plays of site.yml that target `all` (the base
role today); adding groups (k3s_server, gpu_workstation) brings in those roles.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shai.drift import runner
from shai.lab import inventory as lab_inventory

ROOT = runner.collection_root()
VENV_BIN = Path(sys.executable).parent


@dataclass
class Timed:
    seconds: float
    code: int
    report: dict[str, Any]
    output: str
    cpu_seconds: float = 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class DriftLab:
    """A `shai lab` with its inventory (linked to inventories/lab/group_vars) and run helpers."""

    def __init__(self, name: str, hosts: list[str], workdir: Path) -> None:
        self.name = name
        self.hosts = hosts
        self.workdir = workdir
        self.inventory = workdir / "inventory" / "hosts.yml"

    @property
    def lab_vars(self) -> dict[str, Any]:
        """`all.vars` of the generated inventory (shai_lab_gateway, shai_lab_mirror_url...)."""
        data = yaml.safe_load(self.inventory.read_text())
        return dict(data["all"].get("vars", {}))

    def address(self, host: str) -> str:
        """The lab address of a host (its ansible_host)."""
        addresses = lab_inventory.host_addresses(yaml.safe_load(self.inventory.read_text()))
        if host not in addresses:
            raise KeyError(f"{host} is not in {self.inventory}")
        return addresses[host]

    def set_host_vars(self, host: str, variables: dict[str, Any]) -> None:
        """Variables for one lab host, in host_vars/ next to the lab's inventory (both the converge
        and the drift run read them, as they would read the homelab's host_vars)."""
        path = self.inventory.parent / "host_vars" / f"{host}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n" + yaml.safe_dump(variables, sort_keys=True))

    def _shai(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "shai"), *args], capture_output=True, text=True, check=check, env=self.env()
        )

    def env(self, report_dir: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
        env["ANSIBLE_FORCE_COLOR"] = "false"
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
        for key in ("SHAI_DRIFT_METRICS_DIR", "SHAI_DRIFT_REPORT_DIR", "ANSIBLE_CALLBACKS_ENABLED"):
            env.pop(key, None)
        if report_dir is not None:
            env["ANSIBLE_CALLBACKS_ENABLED"] = runner.CALLBACK
            env["SHAI_DRIFT_REPORT_DIR"] = str(report_dir)
        return env

    def up(self) -> None:
        self.inventory.parent.mkdir(parents=True, exist_ok=True)
        args = ["lab", "up", "--name", self.name, "--inventory", str(self.inventory)]
        for host in self.hosts:
            args += ["--host", host]
        proc = self._shai(*args, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"shai lab up failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        link = self.inventory.parent / "group_vars"
        if not link.exists():
            link.symlink_to(ROOT / "inventories" / "lab" / "group_vars")

    def down(self) -> None:
        self._shai("lab", "down", "--name", self.name, check=False)

    def converge(self, name: str, *extra: str, limit: str | None = None) -> Timed:
        """A real run of site.yml, its changes recorded by the drift_report callback."""
        report_dir = self.workdir / f"converge-{name}"
        cmd = [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(self.inventory),
            str(ROOT / "site.yml"),
            "--diff",
            # The matrix's inventory is a test harness, not a first run: no vault or models manifest
            # beside it, by design. site.yml's readiness play (shai doctor) is skipped explicitly.
            "-e",
            "shai_doctor=false",
            *(["--limit", limit] if limit else []),
            *extra,
        ]
        start, cpu = time.monotonic(), _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=self.env(report_dir))
        seconds = time.monotonic() - start
        report = json.loads((report_dir / "drift-report.json").read_text())
        return Timed(seconds, proc.returncode, report, proc.stdout + proc.stderr, _children_cpu() - cpu)

    def drift(self, name: str, *extra: str, limit: str | None = None) -> Timed:
        """`shai drift run` (playbooks/drift.yml, --check --diff), cluster part off."""
        report_dir = self.workdir / f"drift-{name}"
        cmd = [
            str(VENV_BIN / "shai"),
            "drift",
            "run",
            "--no-summary",
            "-i",
            str(self.inventory),
            "--report-dir",
            str(report_dir),
            "--metrics-dir",
            str(self.workdir / f"metrics-{name}"),
            "--ansible-arg=-e",
            "--ansible-arg=shai_drift_argocd=false",
            *(["--limit", limit] if limit else []),
        ]
        for e in extra:
            cmd.append(f"--ansible-arg={e}")
        start, cpu = time.monotonic(), _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=self.env())
        seconds = time.monotonic() - start
        report = json.loads((report_dir / "drift-report.json").read_text())
        return Timed(seconds, proc.returncode, report, proc.stdout + proc.stderr, _children_cpu() - cpu)

    def playbook(self, playbook: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        """Run any playbook against the lab (no callback)."""
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(playbook), *extra]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, env=self.env())

    def ssh(self, host: str, command: str) -> subprocess.CompletedProcess[str]:
        """Run a shell command on a lab host (the hand-made drift) through ansible's raw module."""
        return subprocess.run(
            [
                str(VENV_BIN / "ansible"),
                "-i",
                str(self.inventory),
                host,
                "-m",
                "ansible.builtin.shell",
                "-a",
                command,
            ],
            capture_output=True,
            text=True,
            check=False,
            env=self.env(),
        )


def changed_tasks(report: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(host, role, task, handler) of every change, sorted: what a run did or would do."""
    return sorted((c["host"], c["role"], c["task"], bool(c["handler"])) for c in report["changes"])
