"""The drift report model, Markdown, metrics and exit codes (no Ansible run needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_argocd as da
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_metrics as dm
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr
from prometheus_client.parser import text_string_to_metric_families


def metrics_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse exposition text with prometheus_client's parser into {(name, labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _drifted_builder() -> dr.ReportBuilder:
    b = dr.ReportBuilder(playbook="playbooks/drift.yml")
    b.add_result("h1", "ok", {"changed": False}, role="base", task="Packages")
    b.add_result(
        "h1",
        "changed",
        {"changed": True, "diff": {"before": "a=1\napi_key=old\n", "after": "a=2\napi_key=new\n"}},
        role="base",
        task="Config",
        path="roles/base/tasks/configure.yml:3",
        action="ansible.builtin.template",
    )
    b.add_result("h1", "changed", {"changed": True}, role="base", task="Restart x", handler=True)
    b.add_result(
        "h2", "changed", {"censored": "hidden", "changed": True}, role="ollama", task="Secret", no_log=True
    )
    b.add_result(
        "h2", "skipped", {"msg": "Command would have run if not in check mode"}, role="ollama", task="Cmd"
    )
    b.add_result("h2", "ok", {"changed": False}, role=None, task="Facts")
    return b


def test_clean_report() -> None:
    b = dr.ReportBuilder()
    b.add_result("h1", "ok", {"changed": False}, role="base", task="t")
    rep = b.build()
    assert rep["status"] == "clean" and rep["exit_code"] == 0 and dr.exit_code(rep) == 0
    assert rep["changed_by_role"] == [{"host": "h1", "role": "base", "changed_tasks": 0}]


def test_drift_report_contents() -> None:
    rep = _drifted_builder().build()
    assert rep["status"] == "drift" and dr.exit_code(rep) == dr.EXIT_DRIFT
    s = rep["summary"]
    assert (s["changed_tasks"], s["handlers_changed"], s["unverified_tasks"]) == (2, 1, 1)
    config = rep["changes"][0]
    assert config["task"] == "Config" and config["role"] == "base" and not config["handler"]
    assert "\n-a=1\n" in config["diff_text"] and "\n+a=2\n" in config["diff_text"]
    assert "api_key=******** (changed)" in config["diff_text"]
    assert "old" not in json.dumps(config["diff"]) and "new\\n" not in json.dumps(config["diff"])
    censored = rep["changes"][2]
    assert censored["censored"] and censored["diff"] == [] and censored["diff_text"] == ""
    assert rep["unverified"][0]["task"] == "Cmd"
    by_role = {(r["host"], r["role"]): r["changed_tasks"] for r in rep["changed_by_role"]}
    assert by_role == {("h1", "base"): 1, ("h2", "ollama"): 1, ("h2", "none"): 0}


def test_errors_win_over_drift() -> None:
    b = _drifted_builder()
    b.add_result("h3", "failed", {"msg": "boom password=hunter22"}, task="Broken")
    b.add_result("h4", "unreachable", {"msg": "ssh: no route"}, task="Gather")
    b.add_result("h1", "failed", {"msg": "ignored"}, task="Ignored", ignore_errors=True)
    rep = b.build()
    assert rep["status"] == "error" and dr.exit_code(rep) == dr.EXIT_ERROR
    assert rep["summary"]["failed_tasks"] == 1 and rep["summary"]["unreachable_hosts"] == 1
    assert "hunter22" not in json.dumps(rep)


def test_loop_items_and_labels() -> None:
    b = dr.ReportBuilder()
    result = {
        "changed": True,
        "results": [
            {"changed": True, "item": "a", "diff": {"before": {"mode": "0600"}, "after": {"mode": "0644"}}},
            {"changed": False, "item": "b", "diff": {"before": {"mode": "0644"}, "after": {"mode": "0644"}}},
        ],
    }
    b.add_result("h", "changed", result, task="Loop")
    change = b.build()["changes"][0]
    assert change["items"] == ["a"] and len(change["diff"]) == 1
    assert "before (item=a)" in change["diff_text"] and '+  "mode": "0644"' in change["diff_text"]


def test_argocd_applications() -> None:
    apps = [
        da.summarize(_app("ok", "Synced", "Healthy")),
        da.summarize(_app("oos", "OutOfSync", "Healthy")),
        da.summarize(_app("sick", "Synced", "Degraded")),
        da.summarize(_app("busy", "Synced", "Progressing")),
    ]
    b = dr.ReportBuilder()
    b.add_result("localhost", "ok", {"applications": apps}, action="vectorweight.shai.argocd_app_status")
    rep = b.build()
    assert rep["status"] == "drift"
    assert rep["summary"]["applications_out_of_sync"] == 1 and rep["summary"]["applications_drifted"] == 2
    m = metrics_of(dm.render_metrics(rep))
    assert m[("shai_argocd_app_out_of_sync", (("app", "oos"), ("namespace", "argocd")))] == 1
    assert m[("shai_argocd_app_out_of_sync", (("app", "ok"), ("namespace", "argocd")))] == 0
    assert (
        m[
            (
                "shai_argocd_app_health_status",
                (("app", "sick"), ("namespace", "argocd"), ("status", "Degraded")),
            )
        ]
        == 1
    )
    assert m[("shai_argocd_check_success", ())] == 1
    md = dr.render_markdown(rep)
    assert "| argocd/oos | OutOfSync | Healthy |" in md and "argocd/ok |" not in md


def _app(name: str, sync: str, health: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"project": "default"},
        "status": {"sync": {"status": sync, "revision": "abc"}, "health": {"status": health}},
    }


def test_summarize_missing_status() -> None:
    s = da.summarize({"metadata": {"name": "new", "namespace": "argocd"}})
    assert (s["sync_status"], s["health_status"], s["drift"]) == ("Unknown", "Unknown", False)


def test_metrics_parse_back() -> None:
    rep = _drifted_builder().build()
    text = dm.render_metrics(rep)
    m = metrics_of(text)
    assert m[("shai_drift_changed_tasks", (("host", "h1"), ("role", "base")))] == 1
    assert m[("shai_drift_changed_tasks", (("host", "h2"), ("role", "none")))] == 0
    assert m[("shai_drift_run_success", ())] == 1
    assert m[("shai_drift_detected", ())] == 1
    assert m[("shai_drift_unverified_tasks", (("host", "h2"),))] == 1
    assert m[("shai_drift_last_run_timestamp_seconds", ())] == pytest.approx(rep["timestamp"])
    assert m[("shai_argocd_check_success", ())] == 0
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge"


def test_label_escaping() -> None:
    b = dr.ReportBuilder()
    b.add_result('we"ird\\host', "changed", {"changed": True}, role="r\nx", task="t")
    m = metrics_of(dm.render_metrics(b.build()))
    assert m[("shai_drift_changed_tasks", (("host", 'we"ird\\host'), ("role", "r\nx")))] == 1


def test_markdown_summary() -> None:
    md = dr.render_markdown(_drifted_builder().build())
    assert md.startswith("# Drift report: DRIFT")
    assert "| h1 | base | Config | `roles/base/tasks/configure.yml:3` |" in md
    assert "```diff" in md and "_diff hidden: the task has no_log_" in md
    assert "## Not verifiable in check mode" in md


def test_write_and_load(tmp_path: Path) -> None:
    rep = _drifted_builder().build()
    json_path, _md_path = dr.write_report(rep, str(tmp_path / "r"))
    assert dr.load_report(str(tmp_path / "r")) == json.loads(Path(json_path).read_text())
    assert oct(os.stat(json_path).st_mode & 0o777) == "0o640"
    path = dm.write_metrics(rep, str(tmp_path / "m"))
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["shai_drift.prom"]
    with pytest.raises(ValueError, match="not a shai drift report"):
        (tmp_path / "bad.json").write_text("{}")
        dr.load_report(str(tmp_path / "bad.json"))


def test_atomic_write_failure_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "shai_drift.prom"
    target.write_text("old\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        dr.write_atomic(str(target), "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["shai_drift.prom"]


def test_exit_code_of_foreign_or_missing_report() -> None:
    assert dr.exit_code(None) == 1
    assert dr.exit_code({"schema": "other", "status": "clean"}) == 1


def test_rescued_failures_are_not_errors() -> None:
    b = dr.ReportBuilder()
    b.add_result("h", "failed", {"msg": "probe failed"}, task="Try")
    b.errors[-1]["rescuable"] = True
    b.add_result("h", "changed", {"changed": True}, task="Rescue path")
    b.settle_rescued("h", 0)
    rep = b.build()
    assert rep["status"] == "drift" and rep["errors"] == [] and rep["rescued"][0]["task"] == "Try"
    b2 = dr.ReportBuilder()
    b2.add_result("h", "failed", {"msg": "real failure"}, task="Broken")
    b2.settle_rescued("h", 1)
    assert b2.build()["status"] == "error"


def test_drift_exit_code_is_3_everywhere() -> None:
    """docs/cli.md / ADR 0005: drift is 3 (2 is click's usage error); the timer unit counts 3 as a
    successful run that found drift, and only that (1 and 2 fail the unit)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert dr.EXIT_DRIFT == 3 and dr.EXIT_ERROR == 1 and dr.EXIT_OK == 0
    unit = (root / "roles/drift_schedule/templates/shai-drift.service.j2").read_text()
    success = [line for line in unit.splitlines() if line.startswith("SuccessExitStatus=")]
    assert success == [f"SuccessExitStatus={dr.EXIT_DRIFT} 75"]
