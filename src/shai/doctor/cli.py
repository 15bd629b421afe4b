"""``shai doctor``: is this inventory ready for a first run? Read-only; each failure prints its fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shai.clikit import EXIT_ERROR, EXIT_OK, MARKUP, lazy_console, lazy_module

if TYPE_CHECKING:
    from shai.doctor import checks, runner
    from shai.doctor.runner import Report
else:  # imported when the doctor runs, not for --help
    checks = lazy_module("shai.doctor.checks")
    runner = lazy_module("shai.doctor.runner")

app = typer.Typer(name="doctor", add_completion=False, rich_markup_mode=MARKUP)
out = lazy_console(soft_wrap=True)
err = lazy_console(stderr=True, soft_wrap=True)

STYLE = {"ok": "green", "fail": "red", "warn": "yellow", "skip": "dim"}


def _print(report: Report) -> None:
    from rich.table import Table

    table = Table(title=f"shai doctor {report.inventory}" + (" (offline)" if report.offline else ""))
    for column in ("check", "host", "status", "finding"):
        table.add_column(column)
    for f in report.findings:
        table.add_row(f.check, f.host, f"[{STYLE[f.status]}]{f.status}[/]", f.message)
    out.print(table)
    fixes: dict[str, list[str]] = {}  # one line per distinct fix, naming every finding it fixes
    for f in report.findings:
        if f.fix and f.status in ("fail", "warn"):
            label = f"{f.check} ({f.host})" if f.host else f.check
            fixes.setdefault(f.fix, []).append(label)
    if fixes:
        out.print("\nTo fix, in order:")
        for n, (fix, labels) in enumerate(fixes.items(), 1):
            out.print(f"{n:2}. [{', '.join(dict.fromkeys(labels))}] {fix}", markup=False, highlight=False)


@app.command(help="Check an inventory is ready for a first run (read-only). Exit 0 only when it is.")
def doctor(
    inventory: Path | None = typer.Option(
        None, "-i", "--inventory", help="Inventory directory or file, as ansible-playbook -i takes it."
    ),
    offline: bool = typer.Option(
        False, "--offline", help="Only the checks that need no network (vault, keys, pins, inventory)."
    ),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON on stdout."),
    vault_password_file: Path | None = typer.Option(
        None,
        "--vault-password-file",
        help="Default: $SHAI_VAULT_PASSWORD_FILE, $ANSIBLE_VAULT_PASSWORD_FILE, then ansible.cfg.",
    ),
    only: list[str] = typer.Option([], "--check", help="Run only this check (repeatable)."),
    skip: list[str] = typer.Option([], "--skip", help="Skip this check (repeatable)."),
    list_checks: bool = typer.Option(False, "--list", help="List the checks and exit."),
) -> None:
    if list_checks:
        for check in checks.CHECKS:
            where = "offline" if check.offline else "online "
            out.print(f"{check.id:17} {where} {check.description}", markup=False, highlight=False)
        raise typer.Exit(EXIT_OK)
    if inventory is None:
        raise typer.BadParameter("an inventory is required", param_hint="'-i' / '--inventory'")
    if not inventory.exists():
        from shai.clikit import fail

        raise fail(f"inventory {inventory} does not exist")
    report = runner.run(inventory, offline, vault_password_file, only or None, skip or None)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print(report)
    if not report.ok:
        if not report.checked_something:
            err.print("error: nothing was checked", markup=False)
        else:
            err.print(
                f"error: {len(report.failed)} check finding(s) to fix before the first run", markup=False
            )
        raise typer.Exit(EXIT_ERROR)
