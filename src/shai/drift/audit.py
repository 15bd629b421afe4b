"""Static audit of check-mode truthfulness: every command/shell/raw/script task in the roles.

For each such task (blocks, rescue/always and handlers included) report what a drift run
(check mode) and a converge will do with it:

- ``no-changed_when``: reports "changed" on every real run (idempotence broken) and nothing in check
  mode; HIGH.
- ``runs-in-check-mode-and-may-change``: ``check_mode: false`` without ``changed_when: false``: the
  drift run really executes it and it may modify the host; HIGH unless it only reads.
- ``skipped-in-check-mode``: no ``check_mode: false``, no ``creates``/``removes``: check mode skips it,
  so its effect is unverifiable by drift (a blind spot, listed as "unverified" in the report), and
  anything that uses its registered result sees a skipped result; INFO (HIGH when registered).
- ``dry-run-in-check-mode``: ``check_mode: false`` on a command whose arguments name a dry run
  (``--dry-run``, a ``*_dry`` variable): the drift run executes it, truthfully only if the
  argument is set exactly in check mode; INFO (read it by hand).
- ``guarded``: has ``changed_when`` and either ``check_mode: false`` + read-only, or creates/removes,
  or a ``when`` on ``ansible_check_mode``: fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# `--dry-run`, `--dry-run=server`, `dry_run`, a variable such as `__role_dry`
_DRY_RUN = re.compile(r"dry[-_]run|_dry\b")

COMMAND_MODULES = {
    "ansible.builtin.command",
    "ansible.builtin.shell",
    "ansible.builtin.raw",
    "ansible.builtin.script",
    "command",
    "shell",
    "raw",
    "script",
}


@dataclass
class Finding:
    path: str
    line: int
    task: str
    kind: str
    severity: str
    detail: str


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)  # type: ignore[no-untyped-call,assignment]
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _tasks(items: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, dict):
            continue
        if "block" in item:
            for key in ("block", "rescue", "always"):
                out.extend(_tasks(item.get(key)))
            continue
        out.append(item)
    return out


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def classify(task: dict[str, Any]) -> tuple[str, str, str] | None:
    module = next((m for m in COMMAND_MODULES if m in task), None)
    if module is None:
        return None
    args = task.get(module)
    args_d = args if isinstance(args, dict) else {}
    has_creates = "creates" in args_d or "removes" in args_d or "creates" in task.get("args", {})
    changed_when = task.get("changed_when")
    check_mode = task.get("check_mode")
    when = _text(task.get("when"))
    registered = "register" in task
    if changed_when is None and not has_creates:
        return ("no-changed_when", "HIGH", "no changed_when (always 'changed' on a real run)")
    read_only = changed_when is False or _text(changed_when).lower() == "false"
    if check_mode is False or _text(check_mode).lower() == "false":
        if read_only:
            return ("guarded", "OK", "read-only, runs in check mode")
        if _DRY_RUN.search(_text(args)):
            return (
                "dry-run-in-check-mode",
                "INFO",
                "check_mode: false with a dry-run argument: truthful if it is set exactly in check mode",
            )
        return (
            "runs-in-check-mode-and-may-change",
            "HIGH",
            f"check_mode: false with changed_when: {changed_when!r}: the drift run executes it",
        )
    if "ansible_check_mode" in when or has_creates:
        return ("guarded", "OK", "guarded by ansible_check_mode or creates/removes")
    if registered:
        return (
            "skipped-in-check-mode",
            "MEDIUM",
            "skipped in check mode and its registered result is used later (check whether dependants cope)",
        )
    return ("skipped-in-check-mode", "INFO", "skipped in check mode: its effect is a drift blind spot")


def audit(root: Path) -> list[Finding]:
    findings: list[Finding] = []
    files = sorted(
        list(root.glob("roles/*/tasks/*.yml"))
        + list(root.glob("roles/*/handlers/*.yml"))
        + list(root.glob("playbooks/*.yml"))
    )
    for path in files:
        try:
            data = yaml.load(path.read_text(), Loader=_LineLoader)
        except yaml.YAMLError:
            continue
        items: list[dict[str, Any]] = []
        if path.parent.name == "playbooks" and isinstance(data, list):
            for play in data:
                if isinstance(play, dict):
                    for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                        items.extend(_tasks(play.get(key)))
        else:
            items = _tasks(data)
        for task in items:
            result = classify(task)
            if result is None:
                continue
            kind, severity, detail = result
            findings.append(
                Finding(
                    str(path.relative_to(root)),
                    int(task.get("__line__", 0)),
                    _text(task.get("name")),
                    kind,
                    severity,
                    detail,
                )
            )
    return findings
