"""model-disk: the model directories on each host have room (shai_doctor_min_free_gb, default 50)."""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from shai.doctor import remote
from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

DEFAULT_MIN_FREE_GB = 50


def _paths(ctx: Context) -> dict[str, set[str]]:
    """host -> model directories: each manifest target's root, and Ollama's models dir."""
    paths: dict[str, set[str]] = {}
    manifest_file = ctx.inventory_dir / "models.yml"
    manifest: Any = (
        yaml.safe_load(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else {}
    )
    targets = ((manifest or {}).get("shai_models") or {}).get("targets") or {}
    for target in targets.values():
        if not isinstance(target, dict) or not target.get("root"):
            continue
        selector = str(target.get("hosts", ""))
        members = ctx.groups.get(selector) or ([selector] if selector in ctx.hosts else [])
        for host in members:
            paths.setdefault(host, set()).add(str(target["root"]))
    for host in ctx.groups.get("gpu_workstation", []):
        models_dir = ctx.var(host, "ollama_models_dir", "ollama")
        if models_dir:
            paths.setdefault(host, set()).add(str(models_dir))
    return paths


def _free_kb(target: remote.Target, path: str) -> tuple[int | None, str]:
    quoted = shlex.quote(path)
    script = f'p={quoted}; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; df -Pk "$p" | tail -n 1'
    result = remote.run(target, script)
    fields = result.stdout.split()
    if result.returncode != 0 or len(fields) < 4 or not fields[3].isdigit():
        return None, " ".join(result.stderr.split()) or f"exit {result.returncode}"
    return int(fields[3]), ""


def run(ctx: Context) -> list[Finding]:
    paths = _paths(ctx)
    if not paths:
        return [CHECK.skip("no model paths in the inventory")]
    jobs = []
    for host, dirs in sorted(paths.items()):
        target = remote.target(ctx, host)
        need = float(ctx.var(host, "shai_doctor_min_free_gb") or DEFAULT_MIN_FREE_GB)
        jobs += [(target, path, need) for path in sorted(dirs)]
    return remote.each(jobs, _check)


def _check(job: tuple[remote.Target, str, float]) -> Finding:
    target, path, need = job
    host = target.host
    free, error = _free_kb(target, path)
    if free is None:
        return CHECK.fail(f"{path}: cannot read free space: {error}", "see the ssh check", host)
    gb = free / 1024 / 1024
    if gb < need:
        return CHECK.fail(
            f"{path}: {gb:.1f} GB free, {need:g} GB wanted",
            f"free space under {path} on {host} (or lower shai_doctor_min_free_gb)",
            host,
        )
    return CHECK.ok(f"{path}: {gb:.1f} GB free", host)


CHECK = Check(
    id="model-disk",
    description="the model paths on each host have at least shai_doctor_min_free_gb free",
    offline=False,
    run=run,
)
