# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report: data model, Markdown summary, exit-code mapping, atomic writes.

Controller-side only (the ``vectorweight.shai.drift_report`` callback and ``shai drift``).
The JSON document (``SCHEMA``) is the contract between the callback, the CLI, the metrics
and the operator; ``docs/drift.md`` documents every field.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import difflib
import json
import os

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.drift_argocd import classify as classify_application
from ansible_collections.vectorweight.shai.plugins.module_utils.drift_redact import (
    CENSORED,
    is_censored,
    redact_data,
    redact_diff,
    redact_text,
)

SCHEMA = "shai.drift/v1"
REPORT_JSON = "drift-report.json"
REPORT_MD = "drift-report.md"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 3  # not 2: click owns 2 for usage errors (docs/cli.md, ADR 0005)

STATUS_CLEAN = "clean"
STATUS_DRIFT = "drift"
STATUS_ERROR = "error"

NO_ROLE = "none"
MAX_DIFF_CHARS = 65536

# Modules whose result carries ArgoCD Application states instead of host changes.
ARGOCD_ACTIONS = frozenset(("vectorweight.shai.argocd_app_status", "argocd_app_status"))
# Health states that count as drift (the app is not what Git says it should be).

# Messages of tasks that check mode could not evaluate (a blind spot, not a pass).
_UNVERIFIED_MARKERS = (
    "Command would have run if not in check mode",
    "check mode not supported",
    "does not support check mode",
    "skipped, running in check mode",
)


def utcnow():
    # type: () -> datetime.datetime
    return datetime.datetime.now(datetime.timezone.utc)


def _serialize(value):
    # type: (object) -> str
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"


def render_diff(diffs, context=3):
    # type: (object, int) -> str
    """Render Ansible ``diff`` result(s) as plain unified-diff text (no colour)."""
    if not isinstance(diffs, list):
        diffs = [diffs]
    out = []
    for diff in diffs:
        if not isinstance(diff, dict):
            continue
        for key, msg in (
            ("dst_binary", "diff skipped: destination file appears to be binary\n"),
            ("src_binary", "diff skipped: source file appears to be binary\n"),
        ):
            if key in diff:
                out.append(msg)
        for key in ("dst_larger", "src_larger"):
            if key in diff:
                out.append("diff skipped: %s file size is greater than %s\n" % (key[:3], diff[key]))
        if "before" in diff and "after" in diff:
            before = _serialize(diff["before"])
            after = _serialize(diff["after"])
            item = " (item=%s)" % diff["item"] if diff.get("item") not in (None, "") else ""
            before_header = ("before: %s" % diff["before_header"] if diff.get("before_header") else "before") + item
            after_header = ("after: %s" % diff["after_header"] if diff.get("after_header") else "after") + item
            before_lines = before.splitlines(True)
            after_lines = after.splitlines(True)
            if before_lines and not before_lines[-1].endswith("\n"):
                before_lines[-1] += "\n\\ No newline at end of file\n"
            if after_lines and not after_lines[-1].endswith("\n"):
                after_lines[-1] += "\n\\ No newline at end of file\n"
            lines = list(
                difflib.unified_diff(
                    before_lines, after_lines, fromfile=before_header, tofile=after_header, n=context
                )
            )
            out.extend(lines)
        if diff.get("prepared"):
            prepared = str(diff["prepared"])
            out.append(prepared if prepared.endswith("\n") else prepared + "\n")
    text = "".join(out)
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + "\n... diff truncated at %d characters ...\n" % MAX_DIFF_CHARS
    return text


def _collect_diffs(result):
    # type: (dict) -> list
    """All diffs of a result, loop items included (each tagged with its item label)."""
    diffs = []
    if result.get("diff"):
        items = result["diff"] if isinstance(result["diff"], list) else [result["diff"]]
        diffs.extend(d for d in items if isinstance(d, dict))
    for item in result.get("results") or []:
        if not isinstance(item, dict) or not item.get("changed") or not item.get("diff"):
            continue
        label = item.get("_ansible_item_label", item.get("item"))
        for d in item["diff"] if isinstance(item["diff"], list) else [item["diff"]]:
            if isinstance(d, dict):
                d = dict(d)
                d.setdefault("item", label)
                diffs.append(d)
    return diffs


def _message(result):
    # type: (dict) -> str
    parts = []
    for key in ("msg", "stderr", "module_stderr", "reason"):
        value = result.get(key)
        if value and isinstance(value, str) and value not in parts:
            parts.append(value.strip())
    if not parts and result.get("results"):
        for item in result["results"]:
            if isinstance(item, dict) and item.get("failed") and item.get("msg"):
                parts.append(str(item["msg"]).strip())
    return redact_text("\n".join(parts))[:4000]


def unverified_reason(result):
    # type: (dict) -> str | None
    """Why check mode could not evaluate this task, or None when it could."""
    candidates = [result] + [r for r in result.get("results") or [] if isinstance(r, dict)]
    for res in candidates:
        msg = str(res.get("msg", ""))
        for marker in _UNVERIFIED_MARKERS:
            if marker.lower() in msg.lower():
                return msg.strip()
    return None


class ReportBuilder:
    """Accumulates task results of one run and produces the report document."""

    def __init__(self, playbook="", check_mode=True, diff_mode=True, started=None):
        # type: (str, bool, bool, datetime.datetime | None) -> None
        self.playbook = playbook
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.started = started or utcnow()
        self.changes = []  # type: list[dict]
        self.errors = []  # type: list[dict]
        self.unverified = []  # type: list[dict]
        self.hosts = {}  # type: dict[str, dict]
        self.roles = {}  # type: dict[str, set]
        self.applications = None  # type: list[dict] | None
        self.cluster_errors = []  # type: list[str]
        self.fatal = []  # type: list[str]
        self.rescued = []  # type: list[dict]

    def _host(self, host):
        # type: (str) -> dict
        return self.hosts.setdefault(
            host,
            {"ok": 0, "changed": 0, "handlers_changed": 0, "failed": 0, "skipped": 0, "unverified": 0,
             "unreachable": False},
        )

    def _base(self, host, play, role, task, path, action, handler):
        # type: (str, str, str | None, str, str, str, bool) -> dict
        return {
            "host": host,
            "play": play,
            "role": role or NO_ROLE,
            "task": task,
            "path": path,
            "action": action,
            "handler": bool(handler),
        }

    def add_result(self, host, status, result, play="", role=None, task="", path="", action="",
                   handler=False, no_log=False, ignore_errors=False):
        # type: (str, str, dict, str, str | None, str, str, str, bool, bool, bool) -> None
        """Record one task result. ``status`` is ok, changed, failed, skipped or unreachable."""
        counters = self._host(host)
        self.roles.setdefault(host, set()).add(role or NO_ROLE)
        censored = bool(no_log) or is_censored(result)
        base = self._base(host, play, role, task, path, action, handler)

        if action in ARGOCD_ACTIONS and status in ("ok", "changed") and not censored:
            self.add_applications(result.get("applications") or [])

        if status == "unreachable":
            counters["unreachable"] = True
            entry = dict(base, msg="" if censored else _message(result), unreachable=True)
            self.errors.append(entry)
            return
        if status == "failed":
            if ignore_errors:
                counters["ok"] += 1
                return
            counters["failed"] += 1
            entry = dict(base, msg=CENSORED if censored else _message(result), unreachable=False)
            self.errors.append(entry)
            return
        reason = None if censored else unverified_reason(result)
        if reason:
            counters["unverified"] += 1
            self.unverified.append(dict(base, reason=redact_text(reason)))
            if status == "skipped":
                return
        if status == "skipped":
            counters["skipped"] += 1
            return
        if status == "changed":
            if handler:
                counters["handlers_changed"] += 1
            else:
                counters["changed"] += 1
            if censored:
                entry = dict(base, censored=True, diff=[], diff_text="", items=[])
            else:
                diffs = [redact_diff(d) for d in _collect_diffs(result)]
                items = [
                    redact_data(r.get("_ansible_item_label", r.get("item")))
                    for r in result.get("results") or []
                    if isinstance(r, dict) and r.get("changed")
                ]
                entry = dict(base, censored=False, diff=diffs, diff_text=render_diff(diffs), items=items)
            self.changes.append(entry)
            return
        counters["ok"] += 1

    def add_applications(self, apps):
        # type: (list) -> None
        if self.applications is None:
            self.applications = []
        seen = {(a["namespace"], a["name"]) for a in self.applications}
        for app in apps:
            if not isinstance(app, dict):
                continue
            key = (app.get("namespace", ""), app.get("name", ""))
            if key in seen:
                continue
            seen.add(key)
            sync = app.get("sync_status") or "Unknown"
            health = app.get("health_status") or "Unknown"
            if "unverified" in app:  # decided by argocd_app_status (drift_argocd.summarize/resolve_dependencies)
                drift, unverified = bool(app.get("drift")), bool(app.get("unverified"))
            else:
                drift, unverified = classify_application(sync, health)
            reason = redact_text(str(app.get("unverified_reason") or "")) if unverified else ""
            self.applications.append(
                {
                    "name": key[1],
                    "namespace": key[0],
                    "sync_status": sync,
                    "health_status": health,
                    "revision": app.get("revision") or "",
                    "out_of_sync": sync == "OutOfSync",
                    "drift": drift,
                    "unverified": unverified,
                    "unverified_reason": reason,
                }
            )

    def settle_rescued(self, host, unrescued_failures):
        # type: (str, int) -> None
        """Drop the failures of ``host`` that a block's rescue handled.

        Ansible's stats count only unrescued failures; the surplus of recorded failures were
        rescued, taken from the tasks inside blocks with a rescue section, latest first.
        """
        failed = [e for e in self.errors if e["host"] == host and not e.get("unreachable")]
        surplus = len(failed) - max(0, int(unrescued_failures))
        if surplus <= 0:
            return
        candidates = [e for e in reversed(failed) if e.get("rescuable")] or list(reversed(failed))
        for entry in candidates[:surplus]:
            self.errors.remove(entry)
            self.rescued.append(entry)
            self.hosts[host]["failed"] -= 1
            self.hosts[host]["ok"] += 1

    def add_fatal(self, message):
        # type: (str) -> None
        """An error outside any task (parse error, interrupted run)."""
        self.fatal.append(redact_text(message))

    def build(self, finished=None):
        # type: (datetime.datetime | None) -> dict
        finished = finished or utcnow()
        apps = sorted(self.applications or [], key=lambda a: (a["namespace"], a["name"]))
        changed = [c for c in self.changes if not c["handler"]]
        apps_drift = [a for a in apps if a["drift"]]
        unreachable = sorted(h for h, c in self.hosts.items() if c["unreachable"])
        failed_tasks = [e for e in self.errors if not e.get("unreachable")]
        if self.errors or self.fatal or self.cluster_errors:
            status = STATUS_ERROR
        elif changed or apps_drift:
            status = STATUS_DRIFT
        else:
            status = STATUS_CLEAN
        by_role = []
        for host in sorted(self.roles):
            for role in sorted(self.roles[host]):
                count = sum(1 for c in changed if c["host"] == host and c["role"] == role)
                by_role.append({"host": host, "role": role, "changed_tasks": count})
        return {
            "schema": SCHEMA,
            "playbook": self.playbook,
            "check_mode": self.check_mode,
            "diff_mode": self.diff_mode,
            "started_at": self.started.isoformat(),
            "finished_at": finished.isoformat(),
            "timestamp": finished.timestamp(),
            "duration_seconds": round((finished - self.started).total_seconds(), 3),
            "status": status,
            "exit_code": {STATUS_CLEAN: EXIT_OK, STATUS_DRIFT: EXIT_DRIFT, STATUS_ERROR: EXIT_ERROR}[status],
            "summary": {
                "hosts": len(self.hosts),
                "changed_tasks": len(changed),
                "handlers_changed": len(self.changes) - len(changed),
                "failed_tasks": len(failed_tasks),
                "unreachable_hosts": len(unreachable),
                "unverified_tasks": len(self.unverified),
                "applications": len(apps),
                "applications_out_of_sync": sum(1 for a in apps if a["out_of_sync"]),
                "applications_drifted": len(apps_drift),
                "applications_unverified": sum(1 for a in apps if a.get("unverified")),
            },
            "hosts": {h: dict(self.hosts[h]) for h in sorted(self.hosts)},
            "changed_by_role": by_role,
            "changes": self.changes,
            "errors": self.errors,
            "fatal": self.fatal,
            "rescued": self.rescued,
            "unverified": self.unverified,
            "argocd": {"checked": self.applications is not None, "applications": apps},
        }


def exit_code(report):
    # type: (dict | None) -> int
    """0 clean, 3 drift, 1 error (a missing or foreign report is an error)."""
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        return EXIT_ERROR
    return {STATUS_CLEAN: EXIT_OK, STATUS_DRIFT: EXIT_DRIFT}.get(report.get("status", ""), EXIT_ERROR)


def _md_escape(text):
    # type: (object) -> str
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report):
    # type: (dict) -> str
    """A short human summary: status, counts, each change with its diff, errors, blind spots."""
    s = report["summary"]
    status = report["status"].upper()
    lines = [
        "# Drift report: %s" % status,
        "",
        "- Finished: %s (%.1f s), playbook `%s`, check mode: %s, diff: %s"
        % (report["finished_at"], report["duration_seconds"], report["playbook"],
           "yes" if report["check_mode"] else "NO (real run)", "yes" if report["diff_mode"] else "no"),
        "- Hosts: %d, changed tasks: %d (handlers that would run: %d), failed tasks: %d, unreachable hosts: %d, "
        "unverified tasks: %d" % (s["hosts"], s["changed_tasks"], s["handlers_changed"], s["failed_tasks"],
                                  s["unreachable_hosts"], s["unverified_tasks"]),
    ]
    if report["argocd"]["checked"]:
        lines.append("- ArgoCD applications: %d, out of sync: %d, drifted (OutOfSync/Degraded/Missing): %d, "
                     "unverified (ArgoCD could not compare with the source; not drift): %d"
                     % (s["applications"], s["applications_out_of_sync"], s["applications_drifted"],
                        s.get("applications_unverified", 0)))
    else:
        lines.append("- ArgoCD applications: not checked")
    lines.append("")
    for fatal in report.get("fatal") or []:
        lines += ["**Run error:** %s" % _md_escape(fatal), ""]
    if report["changes"]:
        lines += ["## Changes", "", "| Host | Role | Task | Where |", "|---|---|---|---|"]
        for c in report["changes"]:
            lines.append("| %s | %s | %s%s | `%s` |" % (
                _md_escape(c["host"]), _md_escape(c["role"]), _md_escape(c["task"]),
                " (handler)" if c["handler"] else "", _md_escape(c["path"])))
        lines.append("")
        for c in report["changes"]:
            if c["handler"]:
                continue
            lines.append("### %s: %s" % (c["host"], c["task"]))
            lines.append("")
            if c.get("censored"):
                lines += ["_diff hidden: the task has no_log_", ""]
            elif c.get("diff_text"):
                lines += ["```diff", c["diff_text"].rstrip("\n").replace("```", "`\u200b``"), "```", ""]
            else:
                lines += ["_the module reported a change without a diff_%s" % (
                    " (items: %s)" % ", ".join(_md_escape(i) for i in c["items"]) if c.get("items") else ""), ""]
    if report["errors"]:
        lines += ["## Errors", "", "| Host | Task | Message |", "|---|---|---|"]
        for e in report["errors"]:
            lines.append("| %s | %s | %s |" % (
                _md_escape(e["host"]), _md_escape(e["task"] or "(unreachable)"), _md_escape(e["msg"])[:300]))
        lines.append("")
    apps = [a for a in report["argocd"]["applications"] if a["drift"] or a["sync_status"] != "Synced"]
    if apps:
        lines += ["## ArgoCD applications", "", "| Application | Sync | Health |", "|---|---|---|"]
        for a in apps:
            note = " (unverified: %s)" % _md_escape(a["unverified_reason"])[:200] if a.get("unverified") else ""
            lines.append(
                "| %s/%s | %s%s | %s |" % (a["namespace"], a["name"], a["sync_status"], note, a["health_status"])
            )
        lines.append("")
    if report["unverified"]:
        lines += ["## Not verifiable in check mode", "", "| Host | Role | Task | Reason |", "|---|---|---|---|"]
        for u in report["unverified"]:
            lines.append("| %s | %s | %s | %s |" % (
                _md_escape(u["host"]), _md_escape(u["role"]), _md_escape(u["task"]), _md_escape(u["reason"])))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_atomic(path, text, mode=0o644):
    # type: (str, str, int) -> None
    """Write ``text`` to ``path`` via a temporary file in the same directory and rename.

    Readers (node_exporter, ``shai drift report``) see the old or the new file, never half of one.
    The temporary name starts with a dot and does not end in ``.prom``, so the textfile collector
    ignores it.
    """
    atomic_write(path, text, mode)  # module_utils/atomic.py: the project's one atomic write


def write_report(report, directory):
    # type: (dict, str) -> tuple[str, str]
    """Write drift-report.json and drift-report.md atomically; returns both paths."""
    json_path = os.path.join(directory, REPORT_JSON)
    md_path = os.path.join(directory, REPORT_MD)
    write_atomic(json_path, json.dumps(report, indent=2, sort_keys=False, default=str) + "\n", 0o640)
    write_atomic(md_path, render_markdown(report), 0o640)
    return json_path, md_path


def load_report(directory_or_file):
    # type: (str) -> dict
    path = directory_or_file
    if os.path.isdir(path):
        path = os.path.join(path, REPORT_JSON)
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError("%s is not a shai drift report (schema %r expected)" % (path, SCHEMA))
    return data
