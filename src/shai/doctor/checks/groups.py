"""inventory-groups: the groups site.yml's plays target each have a host."""

from __future__ import annotations

from shai.doctor.context import REQUIRED_GROUPS, Context
from shai.doctor.model import Check, Finding

VAR = "shai_doctor_required_groups"
EXAMPLE = {
    "k3s_server": "k3s_cluster: {children: {k3s_server: {hosts: {NAME: {ansible_host: ADDRESS}}}}}",
    "gpu_workstation": "gpu_workstation: {hosts: {NAME: {ansible_host: ADDRESS}}}",
    "shai_control": "shai_control: {hosts: {localhost: {ansible_connection: local}}}",
}


def run(ctx: Context) -> list[Finding]:
    hosts_file = ctx.inventory if ctx.inventory.is_file() else ctx.inventory / "hosts.yml"
    findings = []
    required = ctx.var(ctx.hosts[0], VAR) if ctx.hosts else None
    for group in required or REQUIRED_GROUPS:
        members = ctx.groups.get(group, [])
        if members:
            findings.append(CHECK.ok(f"{group}: {', '.join(members)}"))
        else:
            findings.append(
                CHECK.fail(
                    f"group {group} has no host",
                    f"add under all.children in {ctx.rel(hosts_file)}:  "
                    + EXAMPLE.get(group, f"{group}: {{hosts: {{NAME: {{ansible_host: ADDRESS}}}}}}"),
                )
            )
    return findings


CHECK = Check(
    id="inventory-groups",
    description=f"the groups the plays target have hosts ({', '.join(REQUIRED_GROUPS)}; {VAR})",
    offline=True,
    run=run,
)
