"""`shai drift run` never reports CLEAN after checking nothing (issue 14, class 1; docs/cli.md).

A typo'd inventory, an inventory or ``--limit`` that selects no host, or a run in which no
selected host reported a result is an error: exit 1, a message naming the inventory, an error
report and ``shai_drift_run_success 0`` (so a typo cannot clear a firing drift alert).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import FIXTURES, ROOT, VENV_BIN

Proc = subprocess.CompletedProcess[str]


def _run(tmp: Path, *args: str, playbook: Path | None = None) -> tuple[Proc, Path]:
    cmd = [
        str(VENV_BIN / "shai"),
        "drift",
        "run",
        "--playbook",
        str(playbook or FIXTURES / "site.yml"),
        "--report-dir",
        str(tmp / "report"),
        "--metrics-dir",
        str(tmp),
        *args,
    ]
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, check=False)
    return proc, tmp / "shai_drift.prom"


def _assert_error(proc: subprocess.CompletedProcess[str], metrics: Path, *words: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert "shai_drift_run_success 0" in metrics.read_text()
    report = json.loads((metrics.parent / "report" / "drift-report.json").read_text())
    assert report["status"] == "error" and report["exit_code"] == 1 and report["fatal"]


def test_typo_inventory_is_an_error_not_clean(tmp_path: Path) -> None:
    proc, metrics = _run(tmp_path, "-i", "inventories/typo.yml")
    _assert_error(proc, metrics, "inventories/typo.yml", "does not exist")


def test_inventory_that_selects_no_host_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("all:\n  children:\n    gpu_workstation: {}\n")
    proc, metrics = _run(tmp_path, "-i", str(empty))
    _assert_error(proc, metrics, "selects no host")


def test_limit_that_matches_no_host_is_an_error(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("fixturehost ansible_connection=local\n")
    proc, metrics = _run(tmp_path, "-i", str(inv), "--limit", "typo-host")
    _assert_error(proc, metrics, "selects no host", "typo-host")


def test_selected_hosts_no_play_ran_on_is_an_error(tmp_path: Path) -> None:
    """The inventory has a host, but no play of the playbook targets it: nothing was checked."""
    inv = tmp_path / "hosts.ini"
    inv.write_text("fixturehost ansible_connection=local\n")
    playbook = tmp_path / "other.yml"
    playbook.write_text(
        "- name: A play for a group the inventory does not have\n"
        "  hosts: nosuchgroup\n  gather_facts: false\n"
        "  tasks:\n    - name: Nothing\n      ansible.builtin.debug:\n        msg: hi\n"
    )
    proc, metrics = _run(tmp_path, "-i", str(inv), playbook=playbook)
    _assert_error(proc, metrics, "fixturehost", "was checked")


def test_relative_inventory_is_the_callers(tmp_path: Path) -> None:
    """`-i hosts.ini` means ./hosts.ini of the caller (a directory works as well)."""
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "hosts.ini").write_text("fixturehost ansible_connection=local\n")
    proc, _ = _run(tmp_path, "-i", "inv", "--limit", "nothere")
    assert proc.returncode == 1 and "inventory inv selects no host with --limit nothere" in proc.stderr


def test_cluster_only_that_reads_no_application_is_an_error(tmp_path: Path) -> None:
    """--cluster-only checks the ArgoCD Applications only: if they are not read, nothing was checked."""
    empty = tmp_path / "empty.ini"
    empty.write_text("[all]\n")
    proc, metrics = _run(
        tmp_path,
        "--cluster-only",
        "-i",
        str(empty),
        "--ansible-arg=-e",
        "--ansible-arg=shai_drift_argocd=false",
        playbook=ROOT / "playbooks" / "drift.yml",
    )
    _assert_error(proc, metrics, "--cluster-only", "ArgoCD Applications were not read")


def test_json_report_on_stdout_error_on_stderr(tmp_path: Path) -> None:
    proc, metrics = _run(tmp_path, "--json", "-i", "typo.yml")
    _assert_error(proc, metrics, "inventory typo.yml does not exist")
    report = json.loads(proc.stdout)
    assert report["status"] == "error" and "typo.yml" in report["fatal"][0]


def test_report_exit_code_comes_from_the_status(tmp_path: Path) -> None:
    """A report stored before ADR 0005 says exit_code 2 for drift; `report --exit-code` answers 3."""
    from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr

    builder = dr.ReportBuilder(playbook="site.yml")
    report = builder.build()
    report.update(status="drift", exit_code=2)
    (tmp_path / "drift-report.json").write_text(json.dumps(report))
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(VENV_BIN / "shai"), "drift", "report", str(tmp_path), "--exit-code", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
