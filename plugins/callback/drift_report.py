# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: Record what a check-mode run would change, per host and task, with redacted diffs
version_added: 0.1.0
author:
  - vectorweight (@vectorweight)
description:
  - Records every task result of a C(--check --diff) run of the platform playbooks and, at the end of
    the run, writes C(drift-report.json) and C(drift-report.md) to O(report_dir) and, optionally, a
    Prometheus textfile (C(shai_drift.prom)) to O(metrics_dir) for the node_exporter textfile collector.
  - For each changed task the report keeps host, play, role, task name, file and line, module and the
    diff (loop items included). Results of C(no_log) tasks are censored (status only, no diff, no
    message); in every other diff and message, values of keys that look secret (password, token,
    api_key, secret, private_key, ...), C(Authorization) headers, URL passwords and PEM private keys
    are replaced by C(********).
  - Results of M(vectorweight.shai.argocd_app_status) are recorded as the cluster part (ArgoCD
    Application sync and health). An Application that is C(OutOfSync), C(Degraded) or C(Missing) is drift.
  - Tasks that check mode cannot evaluate (commands skipped in check mode) are listed as unverified.
  - All files are written atomically (temporary file in the same directory, then rename).
  - A callback cannot set the exit code of C(ansible-playbook). C(shai drift run) runs the playbook
    and maps the report to exit codes 0 (no drift), 2 (drift) and 1 (errors); the report holds the
    same value in C(exit_code). See docs/adr/0700-drift-exit-codes.md.
requirements:
  - enable in configuration, e.g. C(ANSIBLE_CALLBACKS_ENABLED=vectorweight.shai.drift_report)
options:
  report_dir:
    description: Directory receiving C(drift-report.json) and C(drift-report.md). Created if missing.
    type: path
    default: .
    env:
      - name: SHAI_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift_report
        key: report_dir
  metrics_dir:
    description:
      - Directory receiving the Prometheus textfile (the node_exporter C(--collector.textfile.directory)).
      - Empty disables metrics.
    type: path
    env:
      - name: SHAI_DRIFT_METRICS_DIR
    ini:
      - section: callback_drift_report
        key: metrics_dir
  metrics_file:
    description: Name of the textfile; must end in C(.prom) to be read by node_exporter.
    type: str
    default: shai_drift.prom
    env:
      - name: SHAI_DRIFT_METRICS_FILE
    ini:
      - section: callback_drift_report
        key: metrics_file
  run_id:
    description:
      - Opaque identifier copied into the report (C(run_id)), so C(shai drift run) can tell its own
        report from a stale one left by an earlier run.
    type: str
    env:
      - name: SHAI_DRIFT_RUN_ID
  metrics_on_real_run:
    description:
      - Also write metrics when the run is not in check mode. Off by default so a converge never
        overwrites the drift signal with a changed-task count of a real run.
    type: bool
    default: false
    env:
      - name: SHAI_DRIFT_METRICS_ON_REAL_RUN
    ini:
      - section: callback_drift_report
        key: metrics_on_real_run
"""

import os

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

from ansible_collections.vectorweight.shai.plugins.module_utils.drift_metrics import write_metrics
from ansible_collections.vectorweight.shai.plugins.module_utils.drift_report import (
    ReportBuilder,
    utcnow,
    write_report,
)


def _short_path(path):
    """``file:line`` relative to the working directory when inside it (symlinks resolved)."""
    name, sep, line = path.rpartition(":")
    if not sep or not line.isdigit():
        name, line = path, ""
    real = os.path.realpath(name)
    rel = os.path.relpath(real)
    shown = real if rel.startswith("..") else rel
    return shown + (":" + line if line else "")


def _in_rescue_block(task):
    """True when a failure of this task may be rescued by an enclosing block."""
    parent = getattr(task, "_parent", None)
    while parent is not None:
        if getattr(parent, "rescue", None):
            return True
        parent = getattr(parent, "_parent", None)
    return False


def _role_name(task):
    role = getattr(task, "_role", None)
    if role is None:
        return None
    name = getattr(role, "_role_name", None) or role.get_name()
    return str(name).rsplit(".", 1)[-1] if "." in str(name) else str(name)


class CallbackModule(CallbackBase):
    """Write the drift report, its Markdown summary and the Prometheus textfile."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vectorweight.shai.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._builder = None
        self._play_name = ""
        self._written = False

    def _ensure_builder(self, playbook=""):
        if self._builder is None:
            check = bool(context.CLIARGS.get("check", False))
            diff = bool(context.CLIARGS.get("diff", False))
            self._builder = ReportBuilder(playbook=playbook, check_mode=check, diff_mode=diff, started=utcnow())
        return self._builder

    # -- run structure -------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._ensure_builder(_short_path(getattr(playbook, "_file_name", "") or ""))

    def v2_playbook_on_play_start(self, play):
        self._ensure_builder()
        self._play_name = play.get_name().strip()

    # -- results -------------------------------------------------------------------------------
    def _record(self, result, status, ignore_errors=False):
        builder = self._ensure_builder()
        task = result.task
        try:
            path = task.get_path() or ""
        except Exception:  # pragma: no cover - implicit tasks have no path
            path = ""
        if path:
            path = _short_path(path)
        res = dict(result.result)
        forced_real = builder.check_mode and task.check_mode is False and status == "changed"
        builder.add_result(
            host=result.host.get_name(),
            status=status,
            result=res,
            play=self._play_name,
            role=_role_name(task),
            task=(task.name or task.action or "").strip(),
            path=path,
            action=task.resolved_action or task.action,
            handler=isinstance(task, Handler),
            no_log=bool(task.no_log),
            ignore_errors=ignore_errors,
        )
        if forced_real:
            builder.changes[-1]["check_mode_forced_off"] = True
        if status == "failed" and not ignore_errors and builder.errors:
            builder.errors[-1]["rescuable"] = _in_rescue_block(task)

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_async_failed(self, result):
        self._record(result, "failed")

    # -- end of run ----------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        builder = self._ensure_builder()
        # Failures a block's rescue handled are not errors: Ansible counts only unrescued ones.
        for host in list(builder.hosts):
            builder.settle_rescued(host, stats.failures.get(host, 0))
        # Hosts that failed or were unreachable without a task result we saw (should not happen)
        for host in sorted(set(stats.failures) | set(stats.dark)):
            if host not in builder.hosts:
                builder.add_fatal("host %s failed without a recorded task result" % host)
        report = builder.build()
        report["run_id"] = self.get_option("run_id") or ""
        report_dir = self.get_option("report_dir") or "."
        json_path, md_path = write_report(report, report_dir)
        self._display.display("drift report: %s (%s)" % (json_path, report["status"]))
        metrics_dir = self.get_option("metrics_dir")
        if metrics_dir and (builder.check_mode or self.get_option("metrics_on_real_run")):
            path = write_metrics(report, metrics_dir, self.get_option("metrics_file"))
            self._display.display("drift metrics: %s" % path)
        elif metrics_dir:
            self._display.warning("drift_report: not a check-mode run, metrics in %s left unchanged" % metrics_dir)
        self._written = True
