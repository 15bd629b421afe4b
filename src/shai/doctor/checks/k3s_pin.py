"""k3s-pin: every k3s node installs the role's pin, the version the lab tests.

The pin is ``k3s_version`` in roles/k3s/defaults/main.yml, its one place (docs/k3s.md).
"""

from __future__ import annotations

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

GROUP = "k3s_cluster"


def _host(ctx: Context, host: str, pin: object) -> Finding:
    version = ctx.var(host, "k3s_version", "k3s")
    if version == pin:
        return CHECK.ok(f"k3s {version}", host)
    return CHECK.fail(
        f"k3s_version {version} is not the version the lab tests ({pin})",
        f"remove k3s_version from {ctx.defined_in('k3s_version')} (the role's pin applies)",
        host,
    )


def run(ctx: Context) -> list[Finding]:
    pin = ctx.role_defaults("k3s").get("k3s_version")
    return CHECK.per_host(ctx, GROUP, lambda host: _host(ctx, host, pin))


CHECK = Check(
    id="k3s-pin",
    description="the k3s version installed is the pin the lab tests",
    offline=True,
    run=run,
)
