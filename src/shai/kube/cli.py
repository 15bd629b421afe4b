"""``shai lab kube up|down|status``: a detached real control plane on loopback for manual use."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import typer
from rich.console import Console

from shai import tools
from shai.kube.harness import KubeHarnessError, load_state, start_control_plane

app = typer.Typer(
    name="kube",
    help="A real Kubernetes API server (etcd + kube-apiserver + kube-controller-manager) on loopback.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

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
        cp = load_state(wd)
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
            cp = start_control_plane(
                name, wd, controller_manager=controller_manager, timeout=timeout, detach=True
            )
    except (KubeHarnessError, tools.ToolNotFoundError) as exc:
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
            load_state(wd).stop()
        except KubeHarnessError as exc:
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
    cp = load_state(wd)
    alive = cp.alive()
    for proc in cp.processes:
        mark = "[green]running[/]" if alive[proc.name] else "[red]dead[/]"
        console.print(f"  {proc.name:<26} pid {proc.pid:<8} {mark}")
    console.print(f"server {cp.server}\nkubeconfig {cp.kubeconfig}")
    if not all(alive.values()):
        raise typer.Exit(1)
