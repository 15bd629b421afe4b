"""`shai gitops`: render the platform's GitOps tree, validate it, seed it into the ArgoCD repo."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shai.clihelp import HelpGroup
from shai.clikit import MARKUP, fail, lazy_console, lazy_module, real_console

if TYPE_CHECKING:
    from shai.gitops import core
else:  # jinja2, jsonschema, helm rules: imported by the commands, not for --help
    core = lazy_module("shai.gitops.core")

app = typer.Typer(
    name="gitops",
    help="The GitOps tree: render it from the inventory, validate it, seed it into the ArgoCD repo.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
    cls=HelpGroup,
)
console = lazy_console(stderr=True)

InventoryOpt = Annotated[Path, typer.Option("--inventory", "-i", help="Inventory directory or file.")]
HostOpt = Annotated[
    str | None, typer.Option(help="Host whose variables are used (default: first k3s_server).")
]
RootOpt = Annotated[
    Path | None,
    typer.Option("--gitops-dir", help="Directory holding templates/, values.yml, secrets/, crds/."),
]


def _layout(gitops_dir: Path | None) -> core.Layout:
    if gitops_dir is None:
        return core.Layout.default()
    return core.Layout(
        gitops_dir / "templates", gitops_dir / "values.yml", gitops_dir / "secrets", gitops_dir / "crds"
    )


def _fail(message: str, code: int = 1) -> typer.Exit:
    return fail(message, code)  # one unwrapped error line on stderr (docs/cli.md)


def _render(
    inventory: Path, host: str | None, layout: core.Layout, with_secrets: bool = False
) -> tuple[dict[str, bytes], dict[str, object], dict[str, object]]:
    inv = core.inventory_vars(inventory, host, with_secrets=with_secrets)
    secret = {k: inv.pop(k) for k in list(inv) if k == core.TOKEN_VAR}
    values = core.load_values(layout, inv)
    return core.render(layout, values), values, secret


def _print_findings(findings: list[core.Finding], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(core.iter_findings(findings), indent=2) + "\n")
        return
    for f in findings:
        typer.echo(str(f))


@app.command()
def render(
    inventory: InventoryOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (replaced atomically).")],
    host: HostOpt = None,
    gitops_dir: RootOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only show what would change; write nothing.")
    ] = False,
    show_diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff of the changes.")] = False,
) -> None:
    """Render the tree from the inventory into OUT (deterministic: same input, same bytes)."""
    layout = _layout(gitops_dir)
    try:
        files, _values, _ = _render(inventory, host, layout)
        before = core.read(out) if out.is_dir() else {}
        delta = core.diff(before, files) if (show_diff or check) else ""
        changed = sorted(p for p in set(before) | set(files) if before.get(p) != files.get(p))
        if not check:
            core.write(files, out)
    except core.GitopsError as exc:
        raise _fail(str(exc)) from None
    if delta and show_diff:
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(Syntax(delta, "diff", word_wrap=True))
    verb = "would change" if check else "changed"
    console.print(f"{len(files)} files rendered into {out}; {len(changed)} {verb}")


@app.command()
def validate(
    tree: Annotated[Path, typer.Argument(help="A rendered tree (shai gitops render --out).")],
    kube_version: Annotated[
        str | None,
        typer.Option(
            help="Kubernetes version of the core schemas and of helm's --kube-version "
            "(default: the k3s pin, k3s_version of roles/k3s/defaults)."
        ),
    ] = None,
    charts: Annotated[
        Path | None,
        typer.Option(
            "--charts",
            help="Unpacked chart sources (<chart>/<version>/<chart>/): render every chart Application "
            "with the real helm as ArgoCD would and validate what it renders.",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option(help="helm processes in parallel.", min=1)] = 2,
    gitops_dir: RootOpt = None,
    server: Annotated[
        bool, typer.Option("--server", help="Also a server-side dry-run (needs --kubeconfig).")
    ] = False,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig of the API server for --server.")
    ] = None,
    prepare: Annotated[
        bool,
        typer.Option(
            help="With --server: install gitops/crds and create the tree's Namespaces first "
            "(REAL changes: throw-away API servers only)."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="The report as JSON on stdout: objects, findings, audit, rendered (chart Applications), "
            "unverified (Application -> why).",
        ),
    ] = False,
) -> None:
    """Validate every manifest (schemas, CRDs, rules) and, with --charts, every chart Application's
    rendered objects. Exit 1 on any finding (audit results are reported only); Applications whose
    chart source is missing are listed as unverified in every report."""
    layout = _layout(gitops_dir)
    started = time.perf_counter()
    try:
        result = core.validate_charts(tree, layout.crds, kube_version or core.kube_pin(), charts, jobs)
        count, findings = result.count, result.findings
        if server:
            if kubeconfig is None:
                kubeconfig = Path(os.environ.get("KUBECONFIG", "")) if os.environ.get("KUBECONFIG") else None
            if kubeconfig is None or not kubeconfig.is_file():
                raise core.GitopsError("--server needs --kubeconfig (or KUBECONFIG) pointing at a file")
            from rich.progress import Progress

            with Progress(console=real_console(console), transient=True) as progress:
                task = progress.add_task("server-side dry-run", total=None)
                findings += core.server_validate(
                    tree, kubeconfig, layout.crds, prepare=prepare, progress=lambda _f: progress.advance(task)
                )
    except core.GitopsError as exc:
        raise _fail(str(exc)) from None
    if count == 0:
        raise _fail(f"nothing checked: {tree} holds no Kubernetes objects")
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        _print_findings(findings, False)
        _print_renders(result)
    elapsed = time.perf_counter() - started
    # severity "audit" (e.g. Kyverno's restricted policy in audit mode) is reported, not a failure
    failing = [f for f in findings if getattr(f, "severity", "error") == "error"]
    audit = f", {len(findings) - len(failing)} audit result(s)" if len(findings) > len(failing) else ""
    if failing:
        console.print(f"[bold red]{len(failing)} finding(s)[/]{audit} in {count} objects ({elapsed:.2f}s)")
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {count} objects valid{audit} ({elapsed:.2f}s)")


def _print_renders(result: core.Validation) -> None:
    """The chart Applications: rendered (objects, cache) and unverified, by name."""
    charts = [r for r in result.renders if r.kind == "chart"]
    if not charts:
        return
    from rich.table import Table

    table = Table(title="chart Applications (helm template)", title_justify="left")
    for col in ("application", "wave", "chart", "version", "objects", "status"):
        table.add_column(col)
    for r in sorted(charts, key=lambda r: (r.wave, r.name)):
        status = (
            "[yellow]unverified[/]"
            if r.unverified
            else ("[red]helm failed[/]" if r.error else ("cached" if r.cached else "rendered"))
        )
        table.add_row(r.name, str(r.wave), r.chart or "", r.version or "", str(len(r.objects)), status)
    console.print(table)
    for name, why in sorted(result.unverified.items()):
        console.print(f"[yellow]unverified[/]: Application {name}: {why}", highlight=False, soft_wrap=True)


@app.command("pins")
def pins_command(
    gitops_dir: RootOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="The table as JSON on stdout.")] = False,
) -> None:
    """Print the pinned chart and image versions of values.yml with the command that verifies
    each one upstream. Offline: it only reads values.yml; run the commands where there is internet."""
    layout = _layout(gitops_dir)
    try:
        rows = core.pins(layout.values)
    except core.GitopsError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(title=f"pins of {layout.values}")
    for col in ("kind", "name", "source", "version", "verify"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.kind, r.name, r.source, r.version, r.verify)
    from rich.console import Console

    Console(width=200).print(table)


@app.command()
def seed(
    inventory: InventoryOpt,
    host: HostOpt = None,
    gitops_dir: RootOpt = None,
    url: Annotated[str | None, typer.Option(help="Git URL to push to (default: gitops_seed_url).")] = None,
    branch: Annotated[str | None, typer.Option(help="Branch (default: gitops_repo_revision).")] = None,
    path: Annotated[str, typer.Option(help="Directory of the repository holding the tree.")] = "",
    token_env: Annotated[
        str | None,
        typer.Option(
            help="Environment variable holding an https token (default: the inventory's "
            "vault_gitops_repo_token, decrypted with ANSIBLE_VAULT_PASSWORD_FILE)."
        ),
    ] = None,
    username: Annotated[str | None, typer.Option(help="Username for https token auth.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Show the would-be commit; push nothing.")] = False,
    show_diff: Annotated[bool, typer.Option("--diff", help="Print the diff of the commit.")] = False,
    skip_validate: Annotated[bool, typer.Option(help="Seed even if validation finds problems.")] = False,
) -> None:
    """Render, validate and commit the tree into the ArgoCD repo. No commit when nothing changed."""
    layout = _layout(gitops_dir)
    try:
        files, values, secret = _render(inventory, host, layout, with_secrets=token_env is None)
        target = url or str(values.get("gitops_seed_url") or values.get("gitops_repo_url") or "")
        if not target:
            raise core.GitopsError(
                "no --url and the inventory sets neither gitops_seed_url nor gitops_repo_url"
            )
        ref = branch or str(values.get("gitops_repo_revision") or "main")
        token = os.environ.get(token_env) if token_env else (str(secret.get(core.TOKEN_VAR) or "") or None)
        if token_env and not token:
            raise core.GitopsError(f"environment variable {token_env} is empty or unset")
        if not skip_validate:
            with tempfile.TemporaryDirectory(prefix="shai-gitops-") as tmp:
                core.write(files, Path(tmp) / "tree")
                count, findings = core.validate(
                    Path(tmp) / "tree",
                    layout.crds,
                    str(values.get("gitops_kubernetes_version") or core.kube_pin()),
                )
            findings = [
                f for f in findings if getattr(f, "severity", "error") == "error"
            ]  # audit: not failures
            if findings:
                _print_findings(findings, False)
                raise core.GitopsError(
                    f"{len(findings)} validation finding(s) in {count} objects: not seeding"
                )
        result = core.seed(files, target, ref, path=path, token=token, username=username, check=check)
    except (core.GitopsError, core.SeedError) as exc:
        raise _fail(str(exc)) from None
    if show_diff and result.diff:
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(Syntax(result.diff, "diff", word_wrap=True))
    if not result.changed:
        console.print(f"[green]unchanged[/]: {target} {ref} already holds this tree ({result.commit})")
    elif check:
        console.print(f"[yellow]would commit[/] {len(result.files)} file(s) to {target} {ref}")
    else:
        console.print(
            f"[green]committed[/] {result.commit} ({len(result.files)} file(s)) to {target} {ref}"
            f" after {result.attempts} attempt(s)"
        )
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for f in result.files[:50]:
        table.add_row(f)
    if result.files:
        console.print(table)
    for f in result.deleted:  # files under --path the rendered tree does not have (e.g. hand-added)
        console.print(f"[yellow]{'would remove' if check else 'removed'}[/] {f} (not in the rendered tree)")
