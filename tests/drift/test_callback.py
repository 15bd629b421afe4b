"""The drift_report callback and `shai drift run` on real ansible-playbook runs (localhost).

Order matters inside this module: converge, check clean, drift by hand, check, real run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr
from prometheus_client.parser import text_string_to_metric_families

from .conftest import ROOT, Localhost

PASSWORD = "correct-horse-battery-staple"
TOKEN = "tok-0123456789abcdef"


def _metrics(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _changed(report: dict[str, object]) -> list[tuple[str, str, bool]]:
    changes = report["changes"]
    assert isinstance(changes, list)
    return sorted((c["host"], c["task"], c["handler"]) for c in changes)


def test_converged_platform_reports_no_drift(localhost_platform: Localhost) -> None:
    converge = localhost_platform.playbook()
    assert converge.returncode == 0, converge.stdout + converge.stderr
    code, report, report_dir, proc = localhost_platform.drift("clean")
    assert code == 0, proc.stdout + proc.stderr
    assert report["status"] == "clean" and report["check_mode"] and report["diff_mode"]
    assert report["summary"]["changed_tasks"] == 0 and report["changes"] == []
    assert report["hosts"]["fixturehost"]["ok"] >= 6
    m = _metrics(localhost_platform.tmp / "metrics-clean" / "shai_drift.prom")
    assert m[("shai_drift_changed_tasks", (("host", "fixturehost"), ("role", "drift_fixture")))] == 0
    assert m[("shai_drift_run_success", ())] == 1
    assert m[("shai_drift_detected", ())] == 0
    assert abs(m[("shai_drift_last_run_timestamp_seconds", ())] - report["timestamp"]) < 1
    assert (report_dir / "drift-report.md").read_text().startswith("# Drift report: CLEAN")


def test_hand_made_drift_is_reported_exactly(localhost_platform: Localhost) -> None:
    state = localhost_platform.state
    # 1. edit a config file, 2. change a file mode, 3. remove a no_log-managed file,
    # 4. rotate the password in the inventory (the secret diff must stay hidden).
    conf = state / "app.conf"
    conf.write_text(conf.read_text().replace("setting=1", "setting=2"))
    os.chmod(state / "alpha.txt", 0o600)
    (state / "nolog.txt").unlink()
    code, report, report_dir, proc = localhost_platform.drift(
        "drift", "fixture_password=rotated-secret-value", "fixture_unverified_command=true"
    )
    assert code == 3, proc.stdout + proc.stderr
    assert report["status"] == "drift"
    assert _changed(report) == [
        ("fixturehost", "Config file with a secret", False),
        ("fixturehost", "Looped files", False),
        ("fixturehost", "No-log secret file", False),
        ("fixturehost", "Restart fixture", True),
    ]
    by_task = {c["task"]: c for c in report["changes"]}
    conf_diff = by_task["Config file with a secret"]["diff_text"]
    assert "-setting=2\n" in conf_diff and "+setting=1\n" in conf_diff
    assert "+password=******** (changed)" in conf_diff
    assert by_task["Config file with a secret"]["role"] == "drift_fixture"
    assert by_task["Config file with a secret"]["path"].endswith("roles/drift_fixture/tasks/main.yml:8")
    loop = by_task["Looped files"]
    assert loop["items"] == ["alpha"] and '-  "mode": "0600"' in loop["diff_text"]
    assert by_task["No-log secret file"]["censored"] and by_task["No-log secret file"]["diff"] == []
    assert [u["task"] for u in report["unverified"]] == ["Command check mode cannot evaluate"]
    # no secret, old or new, anywhere in the outputs
    outputs = [report_dir / "drift-report.json", report_dir / "drift-report.md"]
    for path in outputs:
        text = path.read_text()
        for secret in (PASSWORD, "rotated-secret-value", TOKEN):
            assert secret not in text, f"{secret} leaked into {path.name}"
    m = _metrics(localhost_platform.tmp / "metrics-drift" / "shai_drift.prom")
    assert m[("shai_drift_changed_tasks", (("host", "fixturehost"), ("role", "drift_fixture")))] == 3
    assert m[("shai_drift_unverified_tasks", (("host", "fixturehost"),))] == 1
    assert m[("shai_drift_detected", ())] == 1 and m[("shai_drift_run_success", ())] == 1
    # the hosts were not touched by the check run
    assert "setting=2" in conf.read_text() and not (state / "nolog.txt").exists()


def test_real_run_changes_exactly_what_check_predicted(localhost_platform: Localhost) -> None:
    predicted = json.loads((localhost_platform.tmp / "report-drift" / "drift-report.json").read_text())
    real_dir = localhost_platform.tmp / "report-real"
    proc = localhost_platform.playbook("-e", "fixture_password=rotated-secret-value", report_dir=real_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    real = dr.load_report(str(real_dir))
    assert not real["check_mode"]
    assert _changed(real) == _changed(predicted)
    assert not (real_dir.parent / "metrics-real").exists()


def test_errors_exit_1_and_are_redacted(localhost_platform: Localhost) -> None:
    code, report, report_dir, proc = localhost_platform.drift("error", "fixture_fail=true")
    assert code == 1, proc.stdout + proc.stderr
    assert report["status"] == "error" and report["summary"]["failed_tasks"] == 1
    assert report["errors"][0]["task"] == "Failing task"
    assert PASSWORD not in (report_dir / "drift-report.json").read_text()
    m = _metrics(localhost_platform.tmp / "metrics-error" / "shai_drift.prom")
    assert m[("shai_drift_run_success", ())] == 0
    assert m[("shai_drift_failed_tasks", (("host", "fixturehost"),))] == 1


def test_wrapper_writes_error_report_when_ansible_dies(localhost_platform: Localhost) -> None:
    missing = localhost_platform.tmp / "no-such-playbook.yml"
    code, report, _, proc = localhost_platform.drift("dead", playbook=missing)
    assert code == 1, proc.stdout + proc.stderr
    assert (
        report["status"] == "error"
        and "before the drift_report callback wrote a report" in report["fatal"][0]
    )
    m = _metrics(localhost_platform.tmp / "metrics-dead" / "shai_drift.prom")
    assert m[("shai_drift_run_success", ())] == 0


def test_drift_playbook_refuses_real_run(localhost_platform: Localhost) -> None:
    empty = localhost_platform.tmp / "empty.ini"
    empty.write_text("[all]\n")
    proc = localhost_platform.playbook("-i", str(empty), playbook=ROOT / "playbooks" / "drift.yml")
    assert proc.returncode != 0
    assert "must run with --check --diff" in proc.stdout


def test_report_command(localhost_platform: Localhost) -> None:
    import subprocess

    from .conftest import VENV_BIN

    report_dir = localhost_platform.tmp / "report-drift"
    out = subprocess.run(
        [str(VENV_BIN / "shai"), "drift", "report", str(report_dir), "--exit-code"],
        capture_output=True,
        text=True,
        check=False,
        env={**localhost_platform.env(), "COLUMNS": "200"},
    )
    assert out.returncode == 3
    assert "DRIFT" in out.stdout and "Config file with a secret" in out.stdout and "(changed)" in out.stdout
    missing = subprocess.run(
        [str(VENV_BIN / "shai"), "drift", "report", str(localhost_platform.tmp / "nothing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1 and "no drift report" in missing.stderr
