"""ollama-pin: the Ollama release archive the GPU workstation installs has a pinned sha256."""

from __future__ import annotations

import re

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

HEX64 = re.compile(r"^[0-9a-f]{64}$")
GROUP = "gpu_workstation"


def _host(ctx: Context, host: str) -> Finding:
    sha = str(ctx.var(host, "ollama_archive_sha256", "ollama") or "")
    version = ctx.var(host, "ollama_version", "ollama")
    if HEX64.match(sha):
        return CHECK.ok(f"Ollama {version} archive sha256 pinned", host)
    base = ctx.var(host, "ollama_download_base_url", "ollama")
    return CHECK.fail(
        f"ollama_archive_sha256 is not pinned for Ollama {version}",
        f"curl -fsSL {base}/sha256sum.txt | grep linux-amd64  # then set ollama_archive_sha256 in "
        f"{ctx.defined_in('ollama_archive_sha256', f'group_vars/{GROUP}/ollama.yml')}",
        host,
    )


def run(ctx: Context) -> list[Finding]:
    return CHECK.per_host(ctx, GROUP, lambda host: _host(ctx, host))


CHECK = Check(
    id="ollama-pin",
    description="the Ollama release archive's sha256 is pinned",
    offline=True,
    run=run,
)
