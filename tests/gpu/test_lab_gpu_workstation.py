"""testinfra checks of every converged gpu_workstation lab host (molecule scenario gpu_workstation).

Run against the scenario's lab (after `molecule converge -s gpu_workstation`):
    SHAI_GPU_LAB_INVENTORY=<molecule ephemeral dir>/inventory .venv/bin/pytest -m lab -s tests/gpu
Every test runs once per host of the inventory's gpu_workstation group (the scenario has two);
an inventory without such a host fails rather than checking nothing. Prints the
`systemd-analyze security` exposure of both live units on each host.
"""

from __future__ import annotations

import os
import re

import pytest

INVENTORY = os.environ.get("SHAI_GPU_LAB_INVENTORY", "")

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not INVENTORY, reason="SHAI_GPU_LAB_INVENTORY not set (no converged lab)"),
]


def _gpu_workstations() -> list[str]:
    """The inventory's gpu_workstation hosts (read at collection time; none without an inventory)."""
    if not INVENTORY:
        return []
    from testinfra.utils.ansible_runner import AnsibleRunner

    return AnsibleRunner(INVENTORY).get_hosts("gpu_workstation")


GPU_WORKSTATIONS = _gpu_workstations()


def test_the_inventory_has_gpu_workstations() -> None:
    assert GPU_WORKSTATIONS, f"{INVENTORY}: no host in group gpu_workstation, nothing to check"


@pytest.fixture(scope="module", params=GPU_WORKSTATIONS)
def host(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    import testinfra

    return testinfra.get_host(f"ansible://{request.param}?ansible_inventory={INVENTORY}")


def test_service_users_and_units(host) -> None:  # type: ignore[no-untyped-def]
    for user in ("ollama", "comfyui"):
        assert host.user(user).shell == "/usr/sbin/nologin"
    for unit in ("ollama.service", "comfyui.service", "shai-lan-firewall.service"):
        assert host.service(unit).is_enabled
    assert host.service("ollama.service").is_running
    assert host.service("comfyui.service").is_running


def test_files_and_ownership(host) -> None:  # type: ignore[no-untyped-def]
    models = host.file("/var/lib/ollama/models")
    assert models.is_directory and models.user == "ollama" and models.mode == 0o750
    assert host.file("/opt/ollama/0.17.4/bin/ollama").user == "root"
    assert host.file("/usr/local/bin/ollama").linked_to == "/opt/ollama/0.17.4/bin/ollama"
    override = host.file("/etc/systemd/system/ollama.service.d/override.conf")
    assert override.contains("OLLAMA_HOST=") and override.contains("OLLAMA_KV_CACHE_TYPE=q8_0")
    assert host.file("/opt/comfyui/app/main.py").user == "root"
    assert host.file("/var/lib/comfyui/extra_model_paths.yaml").group == "comfyui"


def test_listening_on_the_lan_address_only(host) -> None:  # type: ignore[no-untyped-def]
    sockets = [str(s) for s in host.socket.get_listening_sockets()]
    assert not any(s in ("tcp://0.0.0.0:11434", "tcp://:::11434", "tcp://0.0.0.0:8188") for s in sockets)
    assert any(s.endswith(":11434") for s in sockets) and any(s.endswith(":8188") for s in sockets)


def test_exposure_scores(host) -> None:  # type: ignore[no-untyped-def]
    for unit in ("ollama.service", "comfyui.service"):
        out = host.check_output(f"systemd-analyze security --no-pager {unit} | tail -n 1")
        score = float(re.search(r"exposure level for \S+: ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
        print(f"live systemd-analyze security {unit} on {host.backend.host}: exposure {score}")
        assert score <= 4.5


def test_firewall_table(host) -> None:  # type: ignore[no-untyped-def]
    table = host.check_output("nft list table inet shai_lan")
    assert "comment" in table and "tcp dport { 8188, 11434 } drop" in table
