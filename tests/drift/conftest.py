"""Helpers for the drift tests: run the real ansible-playbook / `shai drift run` on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Localhost:
    """A fixture 'platform' on localhost: inventory + a directory the fixture role manages."""

    inventory: Path
    state: Path
    tmp: Path

    def env(self, report_dir: Path | None = None, metrics_dir: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
        env["ANSIBLE_FORCE_COLOR"] = "false"
        env.pop("SHAI_DRIFT_METRICS_DIR", None)
        if report_dir is not None:
            env["ANSIBLE_CALLBACKS_ENABLED"] = "vectorweight.shai.drift_report"
            env["SHAI_DRIFT_REPORT_DIR"] = str(report_dir)
        if metrics_dir is not None:
            env["SHAI_DRIFT_METRICS_DIR"] = str(metrics_dir)
        return env

    def playbook(
        self, *args: str, report_dir: Path | None = None, playbook: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmd = [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(self.inventory),
            str(playbook or FIXTURES / "site.yml"),
            "-e",
            f"fixture_dir={self.state}",
            *args,
        ]
        return subprocess.run(cmd, env=self.env(report_dir), capture_output=True, text=True, check=False)

    def drift(
        self, name: str, *extra: str, metrics: bool = True, playbook: Path | None = None
    ) -> tuple[int, dict[str, Any], Path, subprocess.CompletedProcess[str]]:
        """`shai drift run` against the fixture; returns (exit code, report, report dir, process)."""
        report_dir = self.tmp / f"report-{name}"
        metrics_dir = self.tmp / f"metrics-{name}"
        cmd = [
            str(VENV_BIN / "shai"),
            "drift",
            "run",
            "-i",
            str(self.inventory),
            "--playbook",
            str(playbook or FIXTURES / "site.yml"),
            "--report-dir",
            str(report_dir),
            "--ansible-arg=-e",
            f"--ansible-arg=fixture_dir={self.state}",
        ]
        if metrics:
            cmd += ["--metrics-dir", str(metrics_dir)]
        for e in extra:
            cmd += ["--ansible-arg=-e", f"--ansible-arg={e}"]
        proc = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, check=False)
        report = json.loads((report_dir / "drift-report.json").read_text())
        return proc.returncode, report, report_dir, proc


@pytest.fixture(scope="module")
def localhost_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localhost]:
    tmp = tmp_path_factory.mktemp("drift")
    inventory = tmp / "hosts.ini"
    inventory.write_text(
        f"fixturehost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    yield Localhost(inventory=inventory, state=tmp / "state", tmp=tmp)
