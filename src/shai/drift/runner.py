"""Run the drift playbook and map its report to an exit code (0 clean, 3 drift, 1 error).

The callback `vectorweight.shai.drift_report` writes the report; this wrapper exists because a
callback cannot set ansible-playbook's exit code (docs/adr/0700-drift-exit-codes.md). The wrapper
also guarantees a report and metrics exist after every run, even when ansible-playbook dies
before the callback writes anything (syntax error, missing inventory, killed).

Nothing checked is never clean (docs/cli.md): an inventory that does not exist or selects no
host, or a run in which none of the selected hosts reported a result, is an error report (exit 1,
``shai_drift_run_success 0``), so a typo cannot clear a firing drift alert.
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

from shai import ansible_inventory

CALLBACK = "vectorweight.shai.drift_report"
EXIT_OK = 0
EXIT_ERROR = 1
CLUSTER_TAG = "drift_cluster"  # the ArgoCD play of playbooks/drift.yml
EXIT_DRIFT = dr.EXIT_DRIFT  # 3 (docs/cli.md, ADR 0005): 2 is click's usage error


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
    error: str = ""  # why nothing (or not everything asked for) was checked


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


def _error_outcome(
    message: str, playbook: str, run_id: str, report_dir: Path, metrics_dir: Path | None, cmd: list[str]
) -> RunOutcome:
    report = _fallback_report(message, playbook)
    report["run_id"] = run_id
    _rewrite(report, report_dir, metrics_dir)
    return RunOutcome(EXIT_ERROR, EXIT_ERROR, report, report_dir / dr.REPORT_JSON, cmd, message)


def _mark_error(report: dict[str, Any], message: str) -> None:
    report["fatal"] = [*report.get("fatal", []), message]
    report["status"] = dr.STATUS_ERROR
    report["exit_code"] = EXIT_ERROR


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
    cluster_only: bool = False,
) -> RunOutcome:
    """Run the drift playbook in check+diff mode; always leaves a report (and metrics if asked).

    ``cluster_only``: only the ArgoCD part (``--tags drift_cluster``); no inventory host is
    selected, and the run is an error unless the ArgoCD Applications were actually read.
    """
    report_dir = Path(report_dir or default_report_dir())
    playbook = playbook or collection_root() / "playbooks" / "drift.yml"
    run_id = uuid.uuid4().hex
    cmd = build_command(playbook, inventory, limit, vault_password_file, extra_args, ansible_playbook)
    env = build_env(report_dir, metrics_dir, run_id)
    report_dir.mkdir(parents=True, exist_ok=True)
    if vault_password_file is not None and not Path(vault_password_file).is_file():
        message = f"--vault-password-file {vault_password_file} does not exist"
        return _error_outcome(message, str(playbook), run_id, report_dir, metrics_dir, cmd)
    if cluster_only:
        extra_args = [*(extra_args or []), "--tags", CLUSTER_TAG]
    try:  # what the run is asked to check, as ansible-playbook will read the inventory
        if cluster_only:
            ansible_inventory.check_sources(inventory)
            selected: dict[str, Any] = {}
        else:
            selected = ansible_inventory.require_hosts(
                inventory, limit, vault_password_file=vault_password_file, env=env
            )
    except ansible_inventory.InventoryError as exc:
        return _error_outcome(str(exc), str(playbook), run_id, report_dir, metrics_dir, cmd)
    cmd = build_command(
        playbook,
        ansible_inventory.check_sources(inventory),
        limit,
        vault_password_file,
        extra_args,
        ansible_playbook,
    )
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
        _mark_error(report, f"ansible-playbook exited with rc {rc}")
        _rewrite(report, report_dir, metrics_dir)
    elif cluster_only and not (report.get("argocd") or {}).get("checked"):
        error = (
            "--cluster-only: the ArgoCD Applications were not read (shai_drift_argocd false?): "
            "nothing checked"
        )
        _mark_error(report, error)
        _rewrite(report, report_dir, metrics_dir)
    elif not cluster_only and not set(selected) & set(report.get("hosts") or {}):
        # e.g. --limit to a host no play of the playbook targets: the hosts were not checked
        error = (
            f"none of the {len(selected)} selected host(s) ({', '.join(sorted(selected)[:5])}) "
            "was checked: no play of the playbook ran on them"
        )
        _mark_error(report, error)
        _rewrite(report, report_dir, metrics_dir)
    return RunOutcome(final_exit_code(rc, report), rc, report, report_path, cmd, error)
