"""The lab's Ansible inventory: same group structure as inventories/homelab, lab addresses only."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write

from shai.lab import net

# Groups that live under a parent group, exactly as in inventories/homelab/hosts.yml.
PARENT_GROUPS: Mapping[str, str] = {"k3s_server": "k3s_cluster", "k3s_agent": "k3s_cluster"}
GROUP_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# The default lab mirrors the real homelab topology, plus a second GPU workstation
# (akula-secundus, lab only) so that everything derived from the gpu_workstation group is
# exercised per host, never as "the" GPU host (docs/lab.md).
DEFAULT_HOSTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("homelab", ("k3s_server",)),
    ("akula-prime", ("gpu_workstation",)),
    ("akula-secundus", ("gpu_workstation",)),
)


def describe_hosts(hosts: Iterable[tuple[str, tuple[str, ...]]] = DEFAULT_HOSTS) -> str:
    """``NAME:GROUP[,GROUP]`` specs separated by spaces (the ``--host`` syntax), e.g. for help texts."""
    return " ".join(f"{name}:{','.join(groups)}" for name, groups in hosts)


@dataclass(frozen=True)
class HostSpec:
    name: str
    groups: tuple[str, ...]
    address: str = ""


@dataclass
class LabInventory:
    lab: str
    subnet: ipaddress.IPv4Network
    hosts: list[HostSpec]
    key_file: Path
    variables: dict[str, Any] = field(default_factory=dict)


def parse_host_spec(spec: str) -> HostSpec:
    """Parse ``NAME:GROUP[,GROUP...]`` (groups optional) from the command line."""
    name, _, groups_text = spec.partition(":")
    net.validate_name(name, "host name")
    groups = tuple(g for g in (x.strip() for x in groups_text.split(",")) if g)
    for group in groups:
        if not GROUP_RE.match(group) or group in ("all", "ungrouped"):
            raise net.LabNameError(f"host {name}: invalid group {group!r}")
    return HostSpec(name, groups)


def assign_addresses(subnet: ipaddress.IPv4Network, hosts: Sequence[HostSpec]) -> list[HostSpec]:
    """Give every host its static address (.10, .11, ...) in the lab subnet."""
    names = [h.name for h in hosts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise net.LabNameError(f"duplicate host names: {', '.join(duplicates)}")
    if len(hosts) > 200:
        raise net.LabNameError("a lab holds at most 200 hosts")
    return [HostSpec(h.name, h.groups, net.host_address(subnet, i)) for i, h in enumerate(hosts)]


LAB_SSH_ARGS = "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no"


def build(inv: LabInventory) -> dict[str, Any]:
    """Return the inventory as a YAML-ready dict; refuses any host outside the lab subnet."""
    net.check_subnet(inv.subnet)
    children: dict[str, Any] = {}

    def group_node(group: str) -> dict[str, Any]:
        parent = PARENT_GROUPS.get(group)
        container = children if parent is None else group_node(parent).setdefault("children", {})
        node: dict[str, Any] = container.setdefault(group, {})
        return node

    # Keep the homelab skeleton even when a lab has no host in some group.
    for group in ("k3s_server", "k3s_agent", "gpu_workstation"):
        group_node(group).setdefault("hosts", {})

    ungrouped: dict[str, Any] = {}
    for host in inv.hosts:
        net.check_host_address(host.address, inv.subnet, host.name)
        hostvars = {
            "ansible_host": host.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(inv.key_file),
            "ansible_python_interpreter": "/usr/bin/python3",
            # Lab hosts get new host keys on every boot: host key checking is off for THEM only
            # (ansible.cfg keeps it on for every other inventory, the homelab's included).
            "ansible_host_key_checking": False,
            "ansible_ssh_common_args": LAB_SSH_ARGS,
        }
        if not host.groups:
            ungrouped[host.name] = hostvars
        for i, group in enumerate(host.groups):
            # Host vars once (first group); later groups only list the host.
            group_node(group).setdefault("hosts", {})[host.name] = hostvars if i == 0 else {}
    for node in _walk(children):
        if node.get("hosts") == {} and "children" in node:
            del node["hosts"]
        for name, value in list(node.get("hosts", {}).items()):
            if value == {}:
                node["hosts"][name] = None
    root: dict[str, Any] = {"children": children, "vars": dict(sorted(inv.variables.items()))}
    if ungrouped:
        root["hosts"] = ungrouped
    return {"all": root}


def _walk(children: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for node in children.values():
        yield node
        yield from _walk(node.get("children", {}))


HEADER = (
    "# Generated by `shai lab up` for lab {lab} ({subnet}). Do not edit; do not commit.\n"
    "# Every address is inside the lab subnet; the lab never routes out.\n"
)


def render(inv: LabInventory) -> str:
    return (
        HEADER.format(lab=inv.lab, subnet=inv.subnet)
        + "---\n"
        + yaml.safe_dump(build(inv), sort_keys=False, default_flow_style=False)
    )


def write(inv: LabInventory, path: Path) -> Path:
    """Validate and atomically write the inventory file."""
    text = render(inv)
    atomic_write(str(path), text)
    return path


def host_addresses(data: Mapping[str, Any]) -> dict[str, str]:
    """All ``ansible_host`` values of a parsed inventory dict, by host name."""
    found: dict[str, str] = {}

    def visit(node: Mapping[str, Any]) -> None:
        for name, hv in (node.get("hosts") or {}).items():
            if hv and "ansible_host" in hv:
                found[name] = str(hv["ansible_host"])
        for child in (node.get("children") or {}).values():
            visit(child or {})

    for top in data.values():
        visit(top or {})
    return found


# Variables Ansible's ssh connection takes the address from (the host name when none is set).
ADDRESS_VARS = ("ansible_host", "ansible_ssh_host")


def effective_addresses(name: str, hostvars: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every address Ansible could connect to for host ``name``: each address variable that is
    set (whatever precedence picks, all of them must be safe), else the host name itself."""
    found = [(var, hostvars[var]) for var in ADDRESS_VARS if var in hostvars]
    return found or [("the host name", name)]


def check_inventory_file(path: Path, subnet: ipaddress.IPv4Network) -> dict[str, str]:
    """Refuse an inventory (file or directory) with any host Ansible would reach outside ``subnet``.

    The inventory is read by ``ansible-inventory --list``, as ansible-playbook reads it:
    host_vars/group_vars, ``ansible_host``/``ansible_ssh_host``, a host named by its address. A
    value that is not a literal IPv4 address (unrendered Jinja, a vaulted or structured value, a
    DNS name) is refused: the guard cannot prove where it goes. So is an inventory with no host.
    """
    from shai import ansible_inventory

    try:
        hosts = ansible_inventory.hostvars([path])
    except ansible_inventory.InventoryError as exc:
        raise net.LabSafetyError(f"cannot check the inventory {path}: {exc}") from None
    if not hosts:
        raise net.LabSafetyError(f"inventory {path} has no host: nothing to run against")
    addresses: dict[str, str] = {}
    for name, hostvars in sorted(hosts.items()):
        for var, value in effective_addresses(name, hostvars):
            where = f"host {name} ({var})"
            if not isinstance(value, str):
                vaulted = isinstance(value, dict) and "__ansible_vault" in value
                kind = "a vaulted value" if vaulted else "not a string"
                raise net.LabSafetyError(f"refusing {where}: {kind}, not a literal lab address")
            if "{{" in value or "{%" in value:
                raise net.LabSafetyError(f"refusing {where}: {value!r} is a template, not a literal address")
            addresses.setdefault(name, net.check_host_address(value, subnet, f"{name} ({var})"))
    return addresses
