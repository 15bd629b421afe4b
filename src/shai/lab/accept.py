"""`make lab`'s last step: the converged lab proves itself, then one screen of what is up.

    python -m shai.lab.accept [--name default]

1. ``shai drift run -i inventories/lab`` must exit 0: every host role in check mode changes
   nothing and no ArgoCD Application drifted (an Application ArgoCD could not compare with its
   source is listed as unverified, which is not drift).
2. ``shai doctor -i inventories/lab`` must exit 0 (skipped, and said so, while the command does
   not exist).
3. Every ``gpu_workstation`` host's Ollama must answer ``/api/tags`` on its LAN address (asked
   on the host itself); a lab without such a host says so and checks nothing here.
4. A summary: hosts and groups, the k3s version the server runs, the Applications, the Ollama
   models each GPU workstation serves, the lab's URLs.

Exit 0 only when 1, 2 and 3 passed; otherwise the exit code of the first step that failed. No
converge happens here: the drift run is itself a converge-sized check.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shai.lab.lab import DEFAULT_LAB, Lab, LabError, LabState, repo_root, ssh_command

OLLAMA_PORT = 11434
REPORT_MD = "drift-report.md"
console = Console()


def _shai() -> list[str]:
    exe = Path(sys.executable).with_name("shai")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "shai.cli"]


def _inventory(name: str, state: LabState) -> str:
    """The default lab is `inventories/lab` (hosts.yml + group_vars), as an operator passes it."""
    path = Path(state.inventory)
    if name == DEFAULT_LAB and path.name == "hosts.yml":
        return str(path.parent)
    return str(path)


def _step(title: str, argv: list[str]) -> int:
    console.rule(f"[bold]{title}[/]: {' '.join(argv)}")
    return subprocess.run(argv, cwd=repo_root(), check=False).returncode


def _doctor_exists() -> bool:
    probe = subprocess.run([*_shai(), "doctor", "--help"], capture_output=True, check=False)
    return probe.returncode == 0


def _host(state: LabState, group: str) -> Any:
    return next((h for h in state.hosts if group in h.groups), None)


def _hosts(state: LabState, group: str) -> list[Any]:
    """Every host of ``group``, in the lab's order."""
    return [h for h in state.hosts if group in h.groups]


def _ssh_line(state: LabState, host: str, command: list[str]) -> str:
    proc = subprocess.run(
        ssh_command(state, host, command, batch=True), capture_output=True, text=True, check=False, timeout=30
    )
    out = proc.stdout.strip().splitlines()
    return (
        out[0] if proc.returncode == 0 and out else f"unknown ({proc.stderr.strip()[:80] or proc.returncode})"
    )


Models = dict[str, list[str] | str]  # host -> the models its Ollama serves, or why it did not answer


def _ollama_models(state: LabState, host: str, address: str) -> list[str] | str:
    """The models a GPU workstation's Ollama serves, asked on the host itself (its LAN firewall
    answers the cluster, not this controller)."""
    url = f"http://{address}:{OLLAMA_PORT}/api/tags"
    try:
        proc = subprocess.run(
            ssh_command(state, host, ["curl", "-fsS", "--max-time", "10", url], batch=True),
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        data = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return f"not reachable ({exc})"
    if not isinstance(data, dict):
        return f"not reachable ({proc.stderr.strip()[:80] or proc.returncode})"
    return sorted(str(m.get("name", "?")) for m in data.get("models") or [])


def ollama_step(state: LabState) -> tuple[int, Models]:
    """Every gpu_workstation host's Ollama answers (exit 1 naming those that do not)."""
    console.rule("[bold]ollama[/]: every gpu_workstation host answers /api/tags")
    gpus = _hosts(state, "gpu_workstation")
    if not gpus:
        console.print("[yellow]ollama: the lab has no gpu_workstation host; not checked[/]")
        return 0, {}
    found: Models = {h.name: _ollama_models(state, h.name, h.address) for h in gpus}
    silent = sorted(name for name, models in found.items() if isinstance(models, str))
    for name, models in found.items():
        console.print(f"{name}: {'answers' if isinstance(models, list) else models}")
    if silent:
        console.print(
            f"[red]ollama: {len(silent)} of {len(found)} GPU workstation(s) did not answer:[/] "
            + ", ".join(silent)
        )
        return 1, found
    console.print(f"ollama: all {len(found)} GPU workstation(s) answer")
    return 0, found


def summary(state: LabState, report: dict[str, Any] | None, models: Models | None = None) -> None:
    """One screen: hosts, k3s version, Applications, Ollama models (per GPU workstation), URLs."""
    hosts = Table(title=f"lab {state.name} ({state.subnet})", show_lines=False)
    for col in ("host", "address", "groups"):
        hosts.add_column(col)
    for h in state.hosts:
        hosts.add_row(h.name, h.address, ", ".join(h.groups))
    console.print(hosts)
    k3s, gpus = _host(state, "k3s_server"), _hosts(state, "gpu_workstation")
    models = {} if models is None else models
    lines = []
    if k3s is not None:
        lines.append(f"k3s on {k3s.name}: {_ssh_line(state, k3s.name, ['k3s', '--version'])}")
    for gpu in gpus:
        served = models[gpu.name] if gpu.name in models else _ollama_models(state, gpu.name, gpu.address)
        shown = ", ".join(served) if isinstance(served, list) else served
        lines.append(f"Ollama models on {gpu.name}: {shown or 'none'}")
    console.print("\n".join(lines))
    apps = (report or {}).get("argocd", {}).get("applications") or []
    if apps:  # one line of counts; a row only for what needs a look (drift), names for the unverified
        ok = [a for a in apps if a["sync_status"] == "Synced" and a["health_status"] == "Healthy"]
        drifted = [a for a in apps if a.get("drift")]
        unverified = [a["name"] for a in apps if a.get("unverified")]
        console.print(
            f"ArgoCD Applications {len(apps)}: Synced/Healthy {len(ok)}, drifted {len(drifted)}, "
            f"unverified {len(unverified)} (not drift; reasons in {REPORT_MD})"
        )
        if unverified:
            console.print(f"[dim]unverified: {', '.join(unverified)}[/]")
        if drifted:
            table = Table(title="drifted Applications")
            for col in ("application", "sync", "health"):
                table.add_column(col)
            for a in drifted:
                table.add_row(f"{a['namespace']}/{a['name']}", a["sync_status"], a["health_status"])
            console.print(table)
    urls = [f"mirror   {state.mirror_url}", f"proxy    {state.proxy_url}"]
    if k3s is not None:
        urls += [
            f"k3s API  https://{k3s.address}:6443  (kubeconfig ~/.cache/shai/k3s/{state.name}/kubeconfig)",
            f"GitOps   git://{k3s.address}/platform.git",
        ]
    for gpu in gpus:
        urls.append(f"Ollama   http://{gpu.address}:{OLLAMA_PORT}  ({gpu.name})")
    urls.append(f"ssh      shai lab ssh --name {state.name} HOST")
    console.print("\n".join(urls))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shai.lab.accept", description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=DEFAULT_LAB, help="lab name (default: %(default)s)")
    args = parser.parse_args(argv)
    lab = Lab(args.name)
    state = lab.state()
    if state is None or not state.started:
        console.print(f"[red]error:[/] lab {args.name} is not up (make lab)")
        return 1
    inventory = _inventory(args.name, state)
    report_dir = lab.state_dir / "accept"
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    drift = _step("drift", [*_shai(), "drift", "run", "-i", inventory, "--report-dir", str(report_dir)])
    report_file = report_dir / "drift-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    if _doctor_exists():
        doctor = _step("doctor", [*_shai(), "doctor", "-i", inventory])
    else:
        console.print("[yellow]doctor: `shai doctor` does not exist yet; not checked[/]")
        doctor = 0
    try:
        ollama, models = ollama_step(state)
    except (LabError, OSError, subprocess.SubprocessError) as exc:
        console.print(f"[red]ollama: not checked:[/] {exc}")
        ollama, models = 1, {}
    console.rule("[bold]the lab[/]")
    try:
        summary(state, report, models)
    except (LabError, OSError, subprocess.SubprocessError) as exc:  # the summary never hides a verdict
        console.print(f"[yellow]summary incomplete:[/] {exc}")
    verdict = drift or doctor or ollama
    s = (report or {}).get("summary") or {}
    console.print(
        f"[bold]{'ACCEPTED' if verdict == 0 else 'NOT ACCEPTED'}[/]: drift exit {drift} "
        f"(changed tasks {s.get('changed_tasks', '?')}, "
        f"Applications drifted {s.get('applications_drifted', '?')}, "
        f"unverified {s.get('applications_unverified', '?')}), doctor exit {doctor}, "
        f"ollama exit {ollama} ({len(models)} GPU workstation(s)); report {report_dir}"
    )
    return verdict


if __name__ == "__main__":
    sys.exit(main())
