"""Run the checks against one inventory and decide the verdict (exit 0 only when a first run can succeed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.doctor.checks import CHECKS
from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

SKIP_VAR = "shai_doctor_skip"


@dataclass
class Report:
    inventory: str
    offline: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"]

    @property
    def checked_something(self) -> bool:
        return any(f.status in ("ok", "warn", "fail") for f in self.findings)

    @property
    def ok(self) -> bool:
        return self.checked_something and not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "inventory": self.inventory,
            "offline": self.offline,
            "ok": self.ok,
            "findings": [f.as_dict() for f in self.findings],
        }


def skipped_by_inventory(ctx: Context) -> dict[str, str]:
    """``shai_doctor_skip`` (group_vars/all): ``{check id: reason}`` the inventory opts out of."""
    hosts = ctx.hosts
    raw = ctx.var(hosts[0], SKIP_VAR) if hosts else None
    if not raw:
        return {}
    if isinstance(raw, list):
        raw = {str(item): "" for item in raw}
    if not isinstance(raw, dict):
        raise ShaiError(f"{SKIP_VAR} must map check ids to reasons, got {type(raw).__name__}")
    known = {c.id for c in CHECKS}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ShaiError(
            f"{SKIP_VAR}: unknown check(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return {str(k): str(v or "") for k, v in raw.items()}


def _run_one(check: Check, ctx: Context) -> list[Finding]:
    try:
        return check.run(ctx) or [check.fail("the check found nothing to check", "")]
    except ShaiError as exc:
        return [check.fail(" ".join(str(exc).split()), "")]


def run(
    inventory: Path,
    offline: bool,
    vault_password_file: Path | None = None,
    only: list[str] | None = None,
    skip: list[str] | None = None,
) -> Report:
    ctx = Context(inventory, offline, vault_password_file)
    report = Report(inventory=str(inventory), offline=offline)
    opted_out = skipped_by_inventory(ctx)
    unknown = sorted((set(only or []) | set(skip or [])) - {c.id for c in CHECKS})
    if unknown:
        raise ShaiError(f"unknown check(s): {', '.join(unknown)}")
    for check in CHECKS:
        if only and check.id not in only:
            continue
        if skip and check.id in skip:
            report.findings.append(check.skip("skipped (--skip)"))
        elif check.id in opted_out:
            reason = opted_out[check.id]
            report.findings.append(check.skip(f"skipped by {SKIP_VAR}" + (f": {reason}" if reason else "")))
        elif offline and not check.offline:
            report.findings.append(check.skip("needs the network (--offline)"))
        else:
            report.findings.extend(_run_one(check, ctx))
    return report
