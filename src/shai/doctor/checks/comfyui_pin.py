"""comfyui-pin: ComfyUI and its custom nodes are pinned to commits, not whatever upstream serves today."""

from __future__ import annotations

import re

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
GROUP = "gpu_workstation"


def _archive(ctx: Context, host: str) -> Finding:
    sha = str(ctx.var(host, "comfyui_archive_sha256", "comfyui") or "")
    if HEX64.match(sha):
        return CHECK.ok("archive sha256 pinned", host)
    url = ctx.var(host, "comfyui_archive_url", "comfyui")
    return CHECK.fail(
        f"comfyui_archive_sha256 is not pinned ({sha!r})",
        f"curl -fsSL {url} | sha256sum  # then set comfyui_archive_sha256 in "
        f"{ctx.defined_in('comfyui_archive_sha256', f'group_vars/{GROUP}/comfyui.yml')}",
        host,
    )


def _host(ctx: Context, host: str) -> Finding:
    if ctx.var(host, "comfyui_source", "comfyui") == "archive":
        return _archive(ctx, host)
    version = str(ctx.var(host, "comfyui_version", "comfyui") or "")
    url = ctx.var(host, "comfyui_git_url", "comfyui")
    where = ctx.defined_in("comfyui_version", f"group_vars/{GROUP}/comfyui.yml")
    bad = [] if HEX40.match(version) else [f"comfyui_version {version!r}"]
    for node in ctx.var(host, "comfyui_custom_nodes", "comfyui") or []:
        if not HEX40.match(str(node.get("version", ""))):
            bad.append(f"custom node {node.get('name')} version {node.get('version')!r}")
    if bad:
        return CHECK.fail(
            f"not pinned to a commit: {', '.join(bad)}",
            f"git ls-remote {url} '{version}^{{}}' {version}  # then set comfyui_version (and "
            f"custom node versions) to the 40-hex commit in {where}",
            host,
        )
    return CHECK.ok(f"ComfyUI {version[:12]} and its custom nodes pinned to commits", host)


def run(ctx: Context) -> list[Finding]:
    return CHECK.per_host(ctx, GROUP, lambda host: _host(ctx, host))


CHECK = Check(
    id="comfyui-pin",
    description="ComfyUI and its custom nodes are pinned to commits (or the archive to a sha256)",
    offline=True,
    run=run,
)
