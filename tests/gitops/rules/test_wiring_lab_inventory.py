"""The lab inventory's tree (inventories/lab/group_vars + the hosts file `shai lab up` writes,
built by the lab's own inventory generator) renders and passes every check with the catalog's
SealedSecrets — for the lab's default topology and with 1 or 3 GPU workstations (ADR 0310)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitops_sealed import add_sealed_secrets

from shai.gitops import core
from shai.lab import inventory as lab_inventory

SUBNET = ipaddress.IPv4Network("10.213.250.0/24")
GATEWAY = "10.213.250.1"
OTHERS = [(n, g) for n, g in lab_inventory.DEFAULT_HOSTS if "gpu_workstation" not in g]
GPUS = [(n, g) for n, g in lab_inventory.DEFAULT_HOSTS if "gpu_workstation" in g]
TOPOLOGIES = {
    "default": list(lab_inventory.DEFAULT_HOSTS),
    "1-gpu": OTHERS + GPUS[:1],
    "3-gpu": OTHERS + [(f"akula-{i}", ("gpu_workstation",)) for i in range(3)],
}


def _hosts_file(path: Path, hosts: list[tuple[str, tuple[str, ...]]]) -> dict[str, Any]:
    specs = [lab_inventory.HostSpec(name, tuple(groups)) for name, groups in hosts]
    inv = lab_inventory.LabInventory(
        lab="wiring",
        subnet=SUBNET,
        hosts=lab_inventory.assign_addresses(SUBNET, specs),
        key_file=path.parent / "lab-key",
        variables={"shai_lab_mirror_url": f"http://{GATEWAY}:8080", "shai_lab_gateway": GATEWAY},
    )
    doc = lab_inventory.build(inv)
    path.write_text(yaml.safe_dump(doc))
    return doc


@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
def test_lab_tree_validates(topology: str, tmp_path: Path) -> None:
    lab = core.repo_root() / "inventories" / "lab"
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "group_vars").symlink_to(lab / "group_vars")
    (inv / "models.yml").symlink_to(lab / "models.yml")
    doc = _hosts_file(inv / "hosts.yml", TOPOLOGIES[topology])
    gpu_hosts = doc["all"]["children"]["gpu_workstation"]["hosts"]
    assert gpu_hosts, "the lab always has a GPU workstation"
    layout = core.Layout.default()
    values = core.load_values(layout, core.inventory_vars(inv / "hosts.yml"))
    assert [h["name"] for h in values["shai_gpu_hosts"]] == list(gpu_hosts)
    files = core.render(layout, values)
    core.write(files, tmp_path / "tree")
    services = [
        d["metadata"]["name"]
        for d in yaml.safe_load_all(files["platform/ollama-gpu/ollama-gpu.yaml"])
        if d and d["kind"] == "Service" and d["metadata"]["name"].startswith("ollama-gpu-")
    ]
    assert len(services) == len(gpu_hosts)
    add_sealed_secrets(tmp_path / "tree")
    _count, findings = core.validate(tmp_path / "tree", layout.crds, "1.33")
    assert [str(f) for f in findings if f.severity == "error"] == []
