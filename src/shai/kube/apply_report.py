"""The report of ``shai lab kube apply-tree``: JSON and a rich table, per Application."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from shai.kube.apply_tree import AppResult
from shai.kube.pod_admission import PENDING_NOTE

__all__ = ["app_findings", "as_dict", "failed", "print_report"]


def app_findings(app: AppResult) -> list[str]:
    """Every finding of one Application: failed objects and Pods not admitted."""
    out = [f"{app.name}: not rendered: {app.error}"] if app.error else []
    out += [f"{o.ref} ({o.file}): not applied: {o.message}" for o in app.outcomes if o.status == "failed"]
    for w in app.workloads:
        if not w.ok:
            out += w.findings
    return out


def failed(results: list[AppResult]) -> bool:
    """True when anything failed to apply or any workload's Pods were not all admitted."""
    return any(app_findings(a) for a in results)


def as_dict(results: list[AppResult], **meta: Any) -> dict[str, Any]:
    """The whole report as JSON-ready data (``meta``: tree, node, seconds, static checks...)."""
    apps = []
    for a in results:
        apps.append(
            {
                "name": a.name,
                "wave": a.wave,
                "namespace": a.namespace,
                "kind": a.kind,
                "unverified": a.unverified,
                "objects_rendered": a.rendered,
                "objects_applied": a.count("applied") + a.count("deferred"),
                "pods_expected": sum(w.expected or 0 for w in a.workloads),
                "pods_admitted": sum(w.admitted for w in a.workloads),
                "findings": app_findings(a),
                "objects": [
                    {
                        "object": o.ref,
                        "file": o.file,
                        "status": o.status,
                        "phase": o.phase,
                        "message": o.message,
                    }
                    for o in a.outcomes
                ],
                "workloads": [w.as_dict() for w in a.workloads],
            }
        )
    return {
        **meta,
        "pods_note": PENDING_NOTE,
        "ok": not failed(results),
        "unverified": [a.name for a in results if a.unverified],
        "applications": apps,
    }


def print_report(results: list[AppResult], console: Console, static: list[str] | None = None) -> None:
    """The readable table, then every finding, deferred/skipped object and unverified app."""
    table = Table(title="apply-tree: per Application", caption=PENDING_NOTE)
    for col in (
        "wave",
        "application",
        "namespace",
        "rendered",
        "applied",
        "workloads",
        "pods admitted",
        "findings",
    ):
        table.add_column(
            col, justify="right" if col in ("wave", "rendered", "applied", "findings") else "left"
        )
    for a in results:
        found = app_findings(a)
        pods = sum(w.admitted for w in a.workloads)
        expected = sum(w.expected or 0 for w in a.workloads)
        unverified = f" [yellow](unverified: {a.unverified})[/]" if a.unverified else ""
        table.add_row(
            str(a.wave),
            a.name + unverified,
            a.namespace,
            str(a.rendered),
            str(a.count("applied") + a.count("deferred")),
            str(len(a.workloads)),
            f"{'[green]' if pods >= expected else '[red]'}{pods}/{expected}[/]",
            f"[red]{len(found)}[/]" if found else "0",
        )
    console.print(table)
    for a in results:
        for line in app_findings(a):
            console.print(f"[red]finding[/] {a.name}: {line}")
        for o in a.outcomes:
            if o.status in ("deferred", "skipped"):
                console.print(f"[yellow]{o.status}[/] {a.name}: {o.ref}: {o.message}")
        for w in a.workloads:
            if w.note and w.ok:
                console.print(f"[dim]note[/] {a.name}: {w.ref}: {w.note}")
    for line in static or []:
        console.print(f"[yellow]static[/] (gitops validate rule, not observable here) {line}")
    for a in results:
        if a.unverified:
            console.print(f"[yellow]unverified[/] {a.name}: {a.unverified}")
