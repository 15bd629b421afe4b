"""`shai drift`: run the drift check and read its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shai.clihelp import HelpGroup
from shai.clikit import MARKUP, error_line, fail, lazy_module

if TYPE_CHECKING:
    from rich.console import Console

    from shai.drift import runner
else:  # imported by the commands, not for --help
    runner = lazy_module("shai.drift.runner")

app = typer.Typer(
    name="drift",
    help="Drift detection: what a check-mode run of the platform would change, with diffs.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
    cls=HelpGroup,
)

_STYLE = {"clean": "bold green", "drift": "bold yellow", "error": "bold red"}


@app.command()
def run(
    inventory: Annotated[
        list[str] | None,
        typer.Option("--inventory", "-i", help="Inventory (repeatable); default: ansible.cfg's."),
    ] = None,
    playbook: Annotated[
        Path | None,
        typer.Option(help="Playbook to run in check mode (default: the collection's playbooks/drift.yml)."),
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="Where drift-report.json/.md go ($SHAI_DRIFT_REPORT_DIR).")
    ] = None,
    metrics_dir: Annotated[
        Path | None,
        typer.Option(help="node_exporter textfile directory for shai_drift.prom; omitted = no metrics."),
    ] = None,
    limit: Annotated[str | None, typer.Option("--limit", "-l", help="Limit to hosts/groups.")] = None,
    vault_password_file: Annotated[
        Path | None, typer.Option(help="Vault password file passed to ansible-playbook.")
    ] = None,
    extra: Annotated[
        list[str] | None, typer.Option("--ansible-arg", help="Extra ansible-playbook argument (repeatable).")
    ] = None,
    summary: Annotated[bool, typer.Option(help="Print the report summary after the run.")] = True,
    cluster_only: Annotated[
        bool,
        typer.Option(
            "--cluster-only",
            help="Only the ArgoCD Applications (no host is checked; an error unless they were read).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout (instead of the summary).")
    ] = False,
) -> None:
    """Run the drift playbook with --check --diff. Exit 0: no drift, 3: drift found, 1: errors.

    An inventory that does not exist or selects no host is an error (exit 1, an error report and
    ``shai_drift_run_success 0``), never a clean run.
    """
    outcome = runner.run(
        inventory=inventory or [],
        playbook=playbook,
        report_dir=report_dir,
        metrics_dir=metrics_dir,
        limit=limit,
        vault_password_file=vault_password_file,
        extra_args=extra or [],
        cluster_only=cluster_only,
    )
    if as_json:
        typer.echo(json.dumps(outcome.report, indent=2, default=str))
    elif summary:
        from rich.console import Console

        print_report(outcome.report, Console(), diffs=False)
    if outcome.error:
        raise fail(outcome.error, outcome.exit_code)
    raise typer.Exit(outcome.exit_code)


@app.command()
def report(
    path: Annotated[
        Path | None,
        typer.Argument(help="Report directory or drift-report.json (default: the run's report dir)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
    diffs: Annotated[bool, typer.Option(help="Show each change's diff.")] = True,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit with the report's code (0 clean, 3 drift, 1 error).")
    ] = False,
) -> None:
    """Pretty-print the last drift report."""
    from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr

    target = path or runner.default_report_dir()
    try:
        data: dict[str, Any] = dr.load_report(str(target))
    except FileNotFoundError:
        raise fail(f"no drift report at {target} (run `shai drift run` first)") from None
    except ValueError as exc:
        raise fail(f"{target}: not a drift report ({error_line(exc)})") from None
    except OSError as exc:
        raise fail(error_line(exc)) from None
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        from rich.console import Console

        print_report(data, Console(), diffs=diffs)
    if exit_code:
        raise typer.Exit(int(dr.exit_code(data)))  # from the status: reports written before ADR 0005 said 2


def print_report(data: dict[str, Any], console: Console, diffs: bool = True) -> None:
    """Render a drift report with rich: status, counts, changes (+diffs), errors, blind spots."""
    s = data["summary"]
    status = str(data["status"])
    head = (
        f"[{_STYLE.get(status, 'bold')}]{status.upper()}[/]  finished {data['finished_at']} "
        f"in {data['duration_seconds']:.1f}s  ({data['playbook']})\n"
        f"hosts {s['hosts']}  changed tasks {s['changed_tasks']}  handlers {s['handlers_changed']}  "
        f"failed {s['failed_tasks']}  unreachable {s['unreachable_hosts']}  "
        f"unverified {s['unverified_tasks']}"
    )
    if data["argocd"]["checked"]:
        head += (
            f"\nArgoCD apps {s['applications']}  out of sync {s['applications_out_of_sync']}  "
            f"drifted {s['applications_drifted']}  "
            f"unverified {s.get('applications_unverified', 0)} (not drift)"
        )
    if not data.get("check_mode", True):
        head += "\n[bold red]not a check-mode run: these changes were applied[/]"
    from rich.panel import Panel

    console.print(Panel(head, title="shai drift report"))
    for fatal in data.get("fatal") or []:
        console.print(f"[bold red]run error:[/] {fatal}")
    if data["changes"]:
        from rich.table import Table

        table = Table(title="Changes", show_lines=False)
        for col in ("host", "role", "task", "where"):
            table.add_column(col)
        for c in data["changes"]:
            task = c["task"] + (" [dim](handler)[/]" if c["handler"] else "")
            table.add_row(c["host"], c["role"], task, c["path"])
        console.print(table)
        if diffs:
            for c in data["changes"]:
                if c["handler"]:
                    continue
                console.rule(f"{c['host']}: {c['task']}")
                if c.get("censored"):
                    console.print("[dim]diff hidden: the task has no_log[/]")
                elif c.get("diff_text"):
                    from rich.syntax import Syntax

                    console.print(Syntax(c["diff_text"], "diff", theme="ansi_dark", word_wrap=True))
                else:
                    items = ", ".join(str(i) for i in c.get("items") or [])
                    console.print("[dim]changed without a diff[/]" + (f" items: {items}" if items else ""))
    if data["errors"]:
        from rich.table import Table

        table = Table(title="Errors")
        for col in ("host", "task", "message"):
            table.add_column(col)
        for e in data["errors"]:
            table.add_row(e["host"], e["task"] or "(unreachable)", str(e["msg"])[:500])
        console.print(table)
    apps = [a for a in data["argocd"]["applications"] if a["drift"] or a["sync_status"] != "Synced"]
    if apps:
        from rich.table import Table

        table = Table(title="ArgoCD applications")
        for col in ("application", "sync", "health", "note"):
            table.add_column(col)
        for a in apps:
            note = f"unverified: {a.get('unverified_reason', '')}" if a.get("unverified") else ""
            table.add_row(f"{a['namespace']}/{a['name']}", a["sync_status"], a["health_status"], note)
        console.print(table)
    if data["unverified"]:
        from rich.table import Table

        table = Table(title="Not verifiable in check mode")
        for col in ("host", "role", "task", "reason"):
            table.add_column(col)
        for u in data["unverified"]:
            table.add_row(u["host"], u["role"], u["task"], u["reason"])
        console.print(table)


@app.command()
def audit(
    all_findings: Annotated[bool, typer.Option("--all", help="Also list guarded (OK) tasks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON on stdout.")] = False,
) -> None:
    """Audit every command/shell task of the collection for check-mode truthfulness."""
    from dataclasses import asdict

    from shai.drift.audit import audit as run_audit

    findings = run_audit(runner.collection_root())
    high = any(f.severity == "HIGH" for f in findings)
    if as_json:
        shown_json = [asdict(f) for f in findings if all_findings or f.severity != "OK"]
        typer.echo(json.dumps(shown_json, indent=2))
        raise typer.Exit(1 if high else 0)
    from rich.table import Table

    table = Table(title="check-mode audit of command/shell/raw/script tasks")
    for col in ("severity", "where", "task", "finding"):
        table.add_column(col)
    order = {"HIGH": 0, "MEDIUM": 1, "INFO": 2, "OK": 3}
    shown = [f for f in findings if all_findings or f.severity != "OK"]
    for f in sorted(shown, key=lambda f: (order.get(f.severity, 9), f.path, f.line)):
        table.add_row(f.severity, f"{f.path}:{f.line}", f.task, f.detail)
    from rich.console import Console

    Console(width=200).print(table)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in order}
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    raise typer.Exit(1 if counts["HIGH"] else 0)
