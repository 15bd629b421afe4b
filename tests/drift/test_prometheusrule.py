"""The drift PrometheusRule: rendered from the GitOps tree, checked and unit-tested with a real
`promtool` (Debian's prometheus package) against series shaped like shai_drift.prom."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT

TEMPLATE = "platform/monitoring-rules/drift.yaml"


@pytest.fixture(scope="module")
def rule() -> dict[str, Any]:
    from shai.gitops import core

    layout = core.Layout.default(ROOT)
    values = core.load_values(layout, core.inventory_vars(ROOT / "tests" / "gitops" / "inventory"))
    rendered = core.render(layout, values)
    doc: dict[str, Any] = yaml.safe_load(rendered[TEMPLATE])
    return doc


def test_rule_shape(rule: dict[str, Any]) -> None:
    assert rule["kind"] == "PrometheusRule" and rule["metadata"]["namespace"] == "monitoring"
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    for metric in (
        "shai_drift_changed_tasks",
        "shai_drift_run_success",
        "shai_drift_last_run_timestamp_seconds",
        "shai_argocd_app_out_of_sync",
    ):
        assert any(metric in a["expr"] for a in alerts.values()), metric


def _promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "prometheus"],
            check=False,
            capture_output=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        found = shutil.which("promtool")
    if not found:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    return found


NODE = {"instance": "control:9100", "job": "node"}


def _series(name: str, values: str, **labels: str) -> dict[str, str]:
    lab = ",".join(f'{k}="{v}"' for k, v in sorted({**NODE, **labels}.items()))
    return {"series": f"{name}{{{lab}}}", "values": values}


def test_promtool_rule_unit_tests(rule: dict[str, Any], tmp_path: Path) -> None:
    promtool = _promtool()
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    check = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    drift_ann = {
        "summary": "homelab: 3 task(s) of role ollama drifted from the playbooks",
        "description": "A check-mode run found changes. Read them with `shai drift report` on the control "
        "host; a normal converge (site.yml) reverts them.",
    }
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                # hourly runs: clean, then ollama drifts, then a converge fixes it
                "interval": "1m",
                "input_series": [
                    _series("shai_drift_changed_tasks", "0x10 3x10 0x10", host="homelab", role="ollama"),
                    _series("shai_drift_changed_tasks", "0x30", host="homelab", role="base"),
                    _series("shai_drift_run_success", "1x30"),
                    _series("shai_drift_last_run_timestamp_seconds", "0+60x30"),
                    _series("shai_argocd_app_out_of_sync", "0x5 1x10", app="ollama", namespace="argocd"),
                ],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "ShaiDriftDetected", "exp_alerts": []},
                    {
                        "eval_time": "15m",
                        "alertname": "ShaiDriftDetected",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "host": "homelab", "role": "ollama"},
                                "exp_annotations": drift_ann,
                            }
                        ],
                    },
                    {"eval_time": "25m", "alertname": "ShaiDriftDetected", "exp_alerts": []},
                    {"eval_time": "15m", "alertname": "ShaiDriftRunFailed", "exp_alerts": []},
                    {"eval_time": "15m", "alertname": "ShaiDriftCheckStale", "exp_alerts": []},
                    {
                        "eval_time": "10m",
                        "alertname": "ShaiArgoCDAppDrift",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "app": "ollama", "namespace": "argocd"},
                                "exp_annotations": {
                                    "summary": "ArgoCD Application ollama is OutOfSync, Degraded or Missing "
                                    "(drift check)"
                                },
                            }
                        ],
                    },
                ],
            },
            {
                # the run fails, then the timer stops: failed, then stale
                "interval": "1m",
                "input_series": [
                    _series("shai_drift_run_success", "1 0x300"),
                    _series("shai_drift_last_run_timestamp_seconds", "0x300"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "30m",
                        "alertname": "ShaiDriftRunFailed",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning"},
                                "exp_annotations": {
                                    "summary": "The last drift check failed (task errors, unreachable "
                                    "hosts, or an inventory that selects no host): "
                                    "drift is not being checked",
                                    "description": "See `shai drift report` and "
                                    "`journalctl -u shai-drift.service` on the control host.",
                                },
                            }
                        ],
                    },
                    {"eval_time": "2h", "alertname": "ShaiDriftCheckStale", "exp_alerts": []},
                    {
                        "eval_time": "4h",
                        "alertname": "ShaiDriftCheckStale",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning"},
                                "exp_annotations": {
                                    "summary": "No drift check has finished for 4h 0m 0s",
                                    "description": "Check `systemctl list-timers shai-drift.timer` on the "
                                    "control host.",
                                },
                            }
                        ],
                    },
                ],
            },
        ],
    }
    test_file = tmp_path / "tests.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    proc = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
