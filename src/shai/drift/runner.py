"""Run the drift playbook and map its report to an exit code (0 clean, 2 drift, 1 error).

The callback `vectorweight.shai.drift_report` writes the report; this wrapper exists because a
callback cannot set ansible-playbook's exit code (docs/adr/0700-drift-exit-codes.md). The wrapper
also guarantees a report and metrics exist after every run, even when ansible-playbook dies
before the callback writes anything (syntax error, missing inventory, killed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr
from ansible_collections.vectorweight.shai.plugins.module_utils.drift_metrics import write_metrics

CALLBACK = "vectorweight.shai.drift_report"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


def collection_root() -> Path:
    """The collection root (holds playbooks/, roles/, ansible.cfg in a checkout)."""
    return Path(dr.__file__).resolve().parents[2]


def default_report_dir() -> Path:
    env = os.environ.get("SHAI_DRIFT_REPORT_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/shai/drift")
    return Path.home() / ".local" / "state" / "shai" / "drift"


def ansible_playbook_bin() -> str:
    """ansible-playbook next to the running interpreter (the venv), else from PATH."""
    local = Path(sys.executable).parent / "ansible-playbook"
    if local.exists():
        return str(local)
    found = shutil.which("ansible-playbook")
    if not found:
        raise FileNotFoundError(f"ansible-playbook not found next to {sys.executable} nor on PATH")
    return found


@dataclass
class RunOutcome:
    exit_code: int
    ansible_rc: int
    report: dict[str, Any]
    report_path: Path
    command: list[str]


def build_command(
    playbook: Path | str,
    inventory: list[str],
    limit: str | None = None,
    vault_password_file: Path | None = None,
    extra_args: list[str] | None = None,
    ansible_playbook: str | None = None,
) -> list[str]:
    cmd = [ansible_playbook or ansible_playbook_bin(), str(playbook), "--check", "--diff"]
    for inv in inventory:
        cmd += ["-i", inv]
    if limit:
        cmd += ["--limit", limit]
    if vault_password_file:
        cmd += ["--vault-password-file", str(vault_password_file)]
    cmd += list(extra_args or [])
    return cmd


def build_env(report_dir: Path, metrics_dir: Path | None, run_id: str) -> dict[str, str]:
    env = dict(os.environ)
    enabled = [c for c in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()]
    if CALLBACK not in enabled:
        enabled.append(CALLBACK)
    env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(enabled)
    env["SHAI_DRIFT_REPORT_DIR"] = str(report_dir)
    env["SHAI_DRIFT_RUN_ID"] = run_id
    if metrics_dir is not None:
        env["SHAI_DRIFT_METRICS_DIR"] = str(metrics_dir)
    else:
        env.pop("SHAI_DRIFT_METRICS_DIR", None)
    cfg = collection_root() / "ansible.cfg"
    if "ANSIBLE_CONFIG" not in env and cfg.exists():
        env["ANSIBLE_CONFIG"] = str(cfg)
    return env


def _fallback_report(message: str, playbook: str) -> dict[str, Any]:
    builder = dr.ReportBuilder(playbook=playbook, check_mode=True, diff_mode=True)
    builder.add_fatal(message)
    report: dict[str, Any] = builder.build()
    return report


def _rewrite(report: dict[str, Any], report_dir: Path, metrics_dir: Path | None) -> None:
    dr.write_report(report, str(report_dir))
    if metrics_dir is not None:
        write_metrics(report, str(metrics_dir))


def final_exit_code(ansible_rc: int, report: dict[str, Any] | None) -> int:
    """Errors win over drift: a run with errors cannot vouch for the hosts it did not check."""
    if ansible_rc != 0:
        return EXIT_ERROR
    return int(dr.exit_code(report))


def run(
    inventory: list[str],
    playbook: Path | str | None = None,
    report_dir: Path | None = None,
    metrics_dir: Path | None = None,
    limit: str | None = None,
    vault_password_file: Path | None = None,
    extra_args: list[str] | None = None,
    ansible_playbook: str | None = None,
    stdout: Any = None,
) -> RunOutcome:
    """Run the drift playbook in check+diff mode; always leaves a report (and metrics if asked)."""
    report_dir = Path(report_dir or default_report_dir())
    playbook = playbook or collection_root() / "playbooks" / "drift.yml"
    run_id = uuid.uuid4().hex
    cmd = build_command(playbook, inventory, limit, vault_password_file, extra_args, ansible_playbook)
    env = build_env(report_dir, metrics_dir, run_id)
    report_dir.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(cmd, env=env, check=False, stdout=stdout)
        rc = proc.returncode
    except OSError as exc:
        rc = EXIT_ERROR
        error = f"cannot run {cmd[0]}: {exc}"
    else:
        error = ""
    report_path = report_dir / dr.REPORT_JSON
    report: dict[str, Any] | None
    try:
        report = dr.load_report(str(report_path))
    except (OSError, ValueError):
        report = None
    if report is None or report.get("run_id") != run_id:
        message = (
            error or f"ansible-playbook exited with rc {rc} before the drift_report callback wrote a report"
        )
        report = _fallback_report(message, str(playbook))
        report["run_id"] = run_id
        _rewrite(report, report_dir, metrics_dir)
    elif rc != 0 and report.get("status") != dr.STATUS_ERROR:
        # ansible-playbook failed for a reason no task result showed (e.g. a fatal guard): say so.
        report["fatal"] = [*report.get("fatal", []), f"ansible-playbook exited with rc {rc}"]
        report["status"] = dr.STATUS_ERROR
        report["exit_code"] = EXIT_ERROR
        _rewrite(report, report_dir, metrics_dir)
    return RunOutcome(final_exit_code(rc, report), rc, report, report_path, cmd)
