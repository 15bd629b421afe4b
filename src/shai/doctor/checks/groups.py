"""inventory-groups: the groups site.yml's plays target each have a host; the GPU workstations
are usable by the GitOps tree (shai_gpu_hosts, ADR 0310: one {name, address} per host, each
address an IP for its NetworkPolicy egress)."""

from __future__ import annotations

import ipaddress

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_gpu_hosts as gpu

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
    if ctx.groups.get("gpu_workstation") and ctx.hosts:
        findings.append(_gpu_hosts(ctx))
    return findings


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _gpu_hosts(ctx: Context) -> Finding:
    """shai_gpu_hosts as the render sees it, checked by the render's own check."""
    main = ctx.rel(ctx.inventory_dir / "group_vars" / "all" / "main.yml")
    host = (ctx.groups.get("k3s_server") or ctx.hosts)[0]
    value = ctx.var(host, gpu.VARIABLE)
    if value is None:
        if ctx.var(host, gpu.OLD_VARIABLE) is not None:
            return CHECK.fail(f"{gpu.OLD_VARIABLE} is set but not {gpu.VARIABLE}", gpu.OLD_MESSAGE)
        return CHECK.fail(
            f"{gpu.VARIABLE} is not set: the GitOps tree cannot reach the GPU workstations",
            f"set it in {main} as inventories/example/group_vars/all/main.yml does",
        )
    try:
        hosts = gpu.check(value)
    except gpu.GpuHostsError as exc:
        return CHECK.fail(str(exc), f"fix the gpu_workstation hosts or {gpu.VARIABLE} in {main}")
    named = [f"{h['name']} ({h['address']})" for h in hosts if not _is_ip(h["address"])]
    if named:
        return CHECK.fail(
            f"{gpu.VARIABLE}: {', '.join(named)}: a host name, but the NetworkPolicy egress to a GPU "
            "workstation needs its IP address",
            "set ansible_host to the workstation's LAN IP address in the inventory",
        )
    return CHECK.ok(f"{gpu.VARIABLE}: " + ", ".join(f"{h['name']} ({h['address']})" for h in hosts))


CHECK = Check(
    id="inventory-groups",
    description=(
        f"the groups the plays target have hosts ({', '.join(REQUIRED_GROUPS)}; {VAR}); "
        "every GPU workstation has an IP address (shai_gpu_hosts)"
    ),
    offline=True,
    run=run,
)
