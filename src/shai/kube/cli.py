"""``shai lab kube up|down|status``: a detached real control plane on loopback for manual use."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shai import tools
from shai.clihelp import HelpGroup
from shai.clikit import MARKUP, lazy_console, lazy_module

if TYPE_CHECKING:
    from shai.kube import harness
else:  # imported by the commands, not for --help
    harness = lazy_module("shai.kube.harness")

app = typer.Typer(
    name="kube",
    help="A real Kubernetes API server (etcd + kube-apiserver + kube-controller-manager) on loopback.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=MARKUP,
    cls=HelpGroup,
)
console = lazy_console(stderr=True)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
NameOpt = typer.Option("default", "--name", "-n", help="Control plane name (state in $SHAI_CACHE/kube/NAME).")


def state_dir(name: str) -> Path:
    """Where a named control plane keeps its certs, etcd data, logs and state.json."""
    if not _NAME_RE.match(name):
        raise typer.BadParameter(f"invalid name {name!r}: use lowercase letters, digits and '-'")
    return tools.cache_dir() / "kube" / name


@app.command()
def up(
    name: str = NameOpt,
    timeout: float = typer.Option(90.0, help="Seconds to wait for /readyz before giving up."),
    controller_manager: bool = typer.Option(True, help="Also run kube-controller-manager."),
) -> None:
    """Start a control plane in the background and print its kubeconfig path."""
    wd = state_dir(name)
    if (wd / "state.json").exists():
        cp = harness.load_state(wd)
        if all(cp.alive().values()):
            console.print(f"[green]{name}[/] already running: {cp.server}")
            typer.echo(cp.kubeconfig)
            return
        console.print(f"[yellow]{name}[/]: stale state, cleaning up before starting again")
        cp.stop()
    shutil.rmtree(wd, ignore_errors=True)
    wd.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        with console.status(f"starting control plane {name} ..."):
            cp = harness.start_control_plane(
                name, wd, controller_manager=controller_manager, timeout=timeout, detach=True
            )
    except (harness.KubeHarnessError, tools.ToolNotFoundError) as exc:
        shutil.rmtree(wd, ignore_errors=True)
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]{name}[/] ready in {time.monotonic() - t0:.1f}s at {cp.server}")
    console.print(f"export KUBECONFIG={cp.kubeconfig}")
    typer.echo(cp.kubeconfig)


@app.command()
def down(name: str = NameOpt) -> None:
    """Stop a control plane started with ``up`` and delete its state."""
    wd = state_dir(name)
    if not wd.exists():
        console.print(f"{name}: not running")
        return
    if (wd / "state.json").exists():
        try:
            harness.load_state(wd).stop()
        except harness.KubeHarnessError as exc:
            console.print(f"[yellow]warning:[/] {exc}")
    shutil.rmtree(wd, ignore_errors=True)
    console.print(f"{name}: stopped and removed")


@app.command()
def status(name: str = NameOpt) -> None:
    """Show whether each process of a control plane is running."""
    wd = state_dir(name)
    if not (wd / "state.json").exists():
        console.print(f"{name}: not running")
        raise typer.Exit(1)
    cp = harness.load_state(wd)
    alive = cp.alive()
    for proc in cp.processes:
        mark = "[green]running[/]" if alive[proc.name] else "[red]dead[/]"
        console.print(f"  {proc.name:<26} pid {proc.pid:<8} {mark}")
    console.print(f"server {cp.server}\nkubeconfig {cp.kubeconfig}")
    if not all(alive.values()):
        raise typer.Exit(1)


HOMELAB_NODE = "homelab"


@app.command("apply-tree")
def apply_tree_cmd(
    tree: Path = typer.Argument(..., help="A rendered GitOps tree (shai gitops render -o DIR)."),
    charts: Path | None = typer.Option(
        None, "--charts", help="Chart sources (<name>/<version>/<name>/) for the Helm Applications."
    ),
    crds: Path | None = typer.Option(
        None,
        "--crds",
        help="CRDs k3s and the bootstrap charts install (default: the checkout's gitops/crds).",
    ),
    kube_version: str | None = typer.Option(
        None, "--kube-version", help="Kubernetes version Helm renders for (default: the k3s pin)."
    ),
    node: str = typer.Option(HOMELAB_NODE, "--node", help="Name of the Ready Node to register."),
    node_label: list[str] = typer.Option(
        [], "--node-label", help="Extra Node label KEY=VALUE (the inventory's k3s_node_labels); repeatable."
    ),
    service_cidr: str = typer.Option(
        "10.43.0.0/16",
        "--service-cidr",
        help="Service range (k3s's default; the inventory's k3s_service_cidr).",
    ),
    timeout: float = typer.Option(120.0, help="Seconds to wait for the controllers to create Pods."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    report: Path | None = typer.Option(None, "--report", help="Also write the JSON report to FILE."),
) -> None:
    """Apply a rendered tree wave by wave to a fresh real control plane; report Pod admission.

    Exit 1 when any object failed to apply or any workload's Pods were not all admitted.
    """
    import json

    from shai.clikit import fail
    from shai.gitops.core import kube_pin, repo_root
    from shai.kube.apply_report import as_dict, failed, print_report
    from shai.kube.apply_tree import ApplyTreeError
    from shai.kube.node import parse_labels
    from shai.kube.tree_apps import apply_rendered_tree

    if not tree.is_dir():
        raise fail(f"{tree}: no such directory")
    try:
        labels = parse_labels(node_label, "--node-label")
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    crds_dir = crds if crds is not None else repo_root() / "gitops" / "crds"
    t0 = time.monotonic()
    try:
        with (
            console.status("starting a control plane with admission and workload controllers ..."),
            harness.start_control_plane(
                "apply-tree", service_cidr=service_cidr, workloads=True, node=node, node_labels=labels
            ) as cp,
        ):
            results, static = apply_rendered_tree(
                cp,
                tree,
                charts_dir=charts,
                crds_dir=crds_dir,
                kube_version=kube_version or kube_pin(),
                settle_timeout=timeout,
                progress=console.log,
            )
    except (harness.KubeHarnessError, tools.ToolNotFoundError, ApplyTreeError) as exc:
        raise fail(str(exc)) from exc
    data = as_dict(
        results, tree=str(tree), node=node, seconds=round(time.monotonic() - t0, 1), static_findings=static
    )
    if report is not None:
        report.write_text(json.dumps(data, indent=2) + "\n")
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        from rich.console import Console

        print_report(results, Console(), static)
    if failed(results):
        raise typer.Exit(1)
