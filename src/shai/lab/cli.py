"""`shai lab`: a lab of real Debian 12 systemd hosts on this machine (systemd-nspawn)."""

from __future__ import annotations

import importlib
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from shai.clihelp import HelpGroup
from shai.clikit import MARKUP, lazy_console
from shai.lab import inventory as inv
from shai.lab import net
from shai.lab.lab import (
    DEFAULT_LAB,
    Lab,
    LabError,
    LabState,
    Paths,
    molecule_instances,
    repo_root,
    ssh_command,
)

app = typer.Typer(
    help="A lab of real Debian 12 systemd hosts (systemd-nspawn) on a private bridge.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
    cls=HelpGroup,
)
console = lazy_console(stderr=True)

try:  # `shai lab kube` - owned by the kube harness work; absent until it lands.
    _kube = importlib.import_module("shai.kube.cli")
    app.add_typer(_kube.app, name="kube")
except ModuleNotFoundError as _exc:
    if _exc.name is None or not _exc.name.startswith("shai"):
        raise

NameOpt = Annotated[str, typer.Option("--name", "-n", help="Lab name (its subnet is derived from it).")]


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


def _lab(name: str) -> Lab:
    return Lab(name, progress=lambda msg: console.print(f"[dim]lab {name}:[/] {msg}"))


def _require_state(lab: Lab) -> LabState:
    state = lab.state()
    if state is None or not state.started:
        raise LabError(f"lab {lab.name} is not up (run `shai lab up --name {lab.name}`)")
    return state


@app.command()
def up(
    name: NameOpt = DEFAULT_LAB,
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            help=f"NAME:GROUP[,GROUP] (repeatable). Default: {inv.describe_hosts()}.",
        ),
    ] = None,
    inventory: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the inventory (default: inventories/lab/hosts.yml for the default lab, "
            "else <state dir>/inventory.yml)."
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for sshd on every host.")] = 180.0,
) -> None:
    """Boot the lab's hosts (cleaning leftovers of an earlier run first) and write its inventory."""
    try:
        hosts = [inv.parse_host_spec(h) for h in host] if host else None
        lab = _lab(name)
        start = time.monotonic()
        with console.status(f"bringing lab {name} up"):
            state = lab.up(hosts, inventory, timeout=timeout)
    except (LabError, net.LabSafetyError, net.LabNameError, OSError) as exc:
        raise _fail(exc) from exc
    _print_table(state)
    console.print(f"lab [bold]{name}[/] up in {time.monotonic() - start:.1f}s; inventory: {state.inventory}")
    typer.echo(state.inventory)


@app.command()
def down(name: NameOpt = DEFAULT_LAB) -> None:
    """Stop the lab and remove everything it created (processes, mounts, links, state). Idempotent."""
    try:
        removed = _lab(name).down()
    except (LabError, net.LabNameError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"lab [bold]{name}[/] down ({len(removed)} item(s) removed)")


def _print_table(state: LabState) -> None:
    from rich.table import Table

    table = Table(title=f"lab {state.name}  {state.subnet}  bridge {state.bridge}")
    for col in ("host", "address", "groups", "machine", "nspawn pid", "sshd"):
        table.add_column(col)
    from shai.lab.lab import _ssh_banner

    for h in state.hosts:
        alive = Path(f"/proc/{h.pid}").exists() if h.pid else False
        ssh = "[green]up[/]" if alive and _ssh_banner(h.address) else "[red]down[/]"
        table.add_row(h.name, h.address, ",".join(h.groups), h.machine, str(h.pid), ssh)
    console.print(table)
    console.print(f"proxy {state.proxy_url}  mirror {state.mirror_url}  key {state.key_file}")


@app.command()
def status(
    name: NameOpt = DEFAULT_LAB,
    as_json: Annotated[bool, typer.Option("--json", help="Print the lab state as JSON.")] = False,
) -> None:
    """Show the lab's hosts, addresses and whether each answers on SSH."""
    lab = Lab(name)
    state = lab.state()
    if state is None:
        left = lab.leftovers()
        if any(left.values()):
            console.print(f"lab {name} is down but has leftovers (run `shai lab down -n {name}`): {left}")
            raise typer.Exit(1)
        console.print(f"lab {name} is down")
        raise typer.Exit(3)
    if as_json:
        from dataclasses import asdict

        typer.echo(json.dumps(asdict(state), indent=2))
        return
    _print_table(state)


@app.command("list")
def list_labs(
    as_json: Annotated[bool, typer.Option("--json", help="The labs as JSON.")] = False,
) -> None:
    """List every lab on this machine (state directories and subnet allocations)."""
    paths = Paths()
    labs_dir = paths.lab_root / "labs"
    entries = list(labs_dir.iterdir()) if labs_dir.is_dir() else []
    names = sorted(p.name for p in entries if p.is_dir() and net.NAME_RE.match(p.name))
    from rich.table import Table

    table = Table(title=f"labs under {labs_dir}")
    for col in ("lab", "subnet", "hosts", "state"):
        table.add_column(col)
    rows: list[dict[str, object]] = []
    for lab_name in names:
        lab = Lab(lab_name, paths)
        state = lab.state()
        if state is None:
            table.add_row(lab_name, "", "", "[yellow]leftovers[/] (shai lab down -n " + lab_name + ")")
            rows.append({"lab": lab_name, "subnet": None, "hosts": [], "state": "leftovers"})
            continue
        alive = all(Path(f"/proc/{h.pid}").exists() for h in state.hosts if h.pid)
        status_text = "[green]up[/]" if state.started and alive else "[red]broken[/] (run up or down)"
        table.add_row(lab_name, state.subnet, ", ".join(h.name for h in state.hosts), status_text)
        up = state.started and alive
        rows.append(
            {
                "lab": lab_name,
                "subnet": state.subnet,
                "hosts": [h.name for h in state.hosts],
                "state": "up" if up else "broken",
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console.print(table)


@app.command()
def instances(name: NameOpt = DEFAULT_LAB) -> None:
    """Print the lab's hosts as molecule's instance config (JSON list)."""
    try:
        typer.echo(json.dumps(molecule_instances(_require_state(Lab(name))), indent=2))
    except LabError as exc:
        raise _fail(exc) from exc


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ssh(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Host name in the lab.")],
    name: NameOpt = DEFAULT_LAB,
) -> None:
    """Open an SSH session (or run a command: `shai lab ssh HOST -- CMD`) as root on a lab host."""
    try:
        cmd = ssh_command(_require_state(Lab(name)), host, list(ctx.args))
    except (LabError, net.LabSafetyError) as exc:
        raise _fail(exc) from exc
    os.execvp(cmd[0], cmd)


_RECAP = re.compile(
    r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)"
)


@app.command("run-site")
def run_site(
    name: NameOpt = DEFAULT_LAB,
    check: Annotated[bool, typer.Option("--check", help="Check mode (with --diff).")] = False,
    playbook: Annotated[str, typer.Option(help="Playbook relative to the repository root.")] = "site.yml",
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="Time every task (callback vectorweight.shai.converge_profile): print the slowest "
            "tasks and roles, and write the profile as JSON to this file.",
        ),
    ] = None,
    limit: Annotated[
        str | None,
        typer.Option(
            "--limit",
            help="Ansible host pattern (ansible-playbook --limit), e.g. 'all:!akula-secundus'.",
        ),
    ] = None,
) -> None:
    """Run site.yml against the lab inventory and print a short summary."""
    try:
        state = _require_state(Lab(name))
        inventory_path = Path(state.inventory)
        inv.check_inventory_file(inventory_path, net.check_subnet(ipaddress.IPv4Network(state.subnet)))
    except (LabError, net.LabSafetyError, OSError) as exc:
        raise _fail(exc) from exc
    root = repo_root()
    bindir = Path(sys.executable).parent
    cmd = [str(bindir / "ansible-playbook"), playbook, "-i", str(inventory_path)]
    if check:
        cmd += ["--check", "--diff"]
    if limit:
        cmd += ["--limit", limit]
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(root / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(root / ".cache" / "collections"),
        PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    if profile is not None:
        enabled = [c for c in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()]
        env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join([*enabled, "vectorweight.shai.converge_profile"])
        env["SHAI_PROFILE_OUTPUT"] = str(profile.resolve())
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    recap: dict[str, list[int]] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if m := _RECAP.match(line.strip()):
            recap[m.group(1)] = [int(x) for x in m.groups()[1:]]
    rc = proc.wait()
    elapsed = time.monotonic() - start
    from rich.table import Table

    table = Table(title=f"{playbook} on lab {name}{' (check)' if check else ''}: {elapsed:.1f}s, rc={rc}")
    for col in ("host", "ok", "changed", "unreachable", "failed", "skipped"):
        table.add_column(col)
    for h, nums in recap.items():
        table.add_row(h, *map(str, nums))
    console.print(table)
    raise typer.Exit(rc)
