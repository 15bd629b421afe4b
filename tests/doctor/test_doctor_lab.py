"""The online doctor checks against real lab hosts (one lab for the module).

"Known host key" in the lab means the key the lab host generated when it booted, read from its
overlay on this machine (``<lab state>/hosts/<h>/merged/etc/ssh/``) — never trusted over the
network. The lab's own inventory turns host key checking off for its hosts, which the doctor
reports as a warning; these tests turn it back on with a known_hosts file made from those keys
(ok), then with an empty one (fail, with the ssh-keyscan fix). Lab hosts are reached as root; the
passwordless-sudo branch is tested with a user made for it (no sudoers entry: fail; NOPASSWD: ok).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHAI = str(Path(sys.executable).parent / "shai")

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("systemd-nspawn") is None, reason="needs root and systemd-nspawn"
    ),
]


class LabInventory:
    def __init__(self, path: Path, state_dir: Path, addresses: dict[str, str]) -> None:
        self.path, self.state_dir, self.addresses = path, state_dir, addresses

    def host_vars(self, host: str, values: dict[str, object]) -> None:
        d = self.path / "host_vars"
        d.mkdir(exist_ok=True)
        (d / f"{host}.yml").write_text("---\n" + yaml.safe_dump(values))

    def clear_host_vars(self) -> None:
        shutil.rmtree(self.path / "host_vars", ignore_errors=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInventory]:
    from shai.lab import inventory as inv
    from shai.lab.lab import Lab, Paths

    path = tmp_path_factory.mktemp("doctor-lab") / "inventory"
    shutil.copytree(ROOT / "inventories" / "lab" / "group_vars", path / "group_vars")
    shutil.copy(ROOT / "inventories" / "lab" / "models.yml", path / "models.yml")
    lab = Lab("doctor", Paths())
    try:
        state = lab.up(
            [inv.parse_host_spec("server:k3s_server"), inv.parse_host_spec("gpu:gpu_workstation")],
            inventory_path=path / "hosts.yml",
        )
        yield LabInventory(path, lab.state_dir, {h.name: h.address for h in state.hosts})
    finally:
        lab.down()


Findings = dict[str, list[dict[str, str]]]


def doctor(lab: LabInventory, *args: str) -> tuple[int, Findings]:
    done = subprocess.run(
        [SHAI, "doctor", "--json", "-i", str(lab.path), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    by_check: Findings = {}
    for finding in json.loads(done.stdout)["findings"]:
        by_check.setdefault(finding["check"], []).append(finding)
    return done.returncode, by_check


def test_the_lab_is_ready(lab: LabInventory) -> None:
    code, found = doctor(lab)
    assert code == 0, found
    assert {f["host"]: f["status"] for f in found["ssh"]} == {"server": "warn", "gpu": "warn"}
    assert all("host key NOT verified" in f["message"] for f in found["ssh"])
    assert {f["status"] for f in found["model-disk"]} == {"ok"}
    assert [f["status"] for f in found["dns"]] == ["skip"]  # no DNS query leaves this machine


def doctor_with_known_hosts(lab: LabInventory, known_hosts: Path) -> tuple[int, Findings]:
    """The ssh check with host key checking back on, against ``known_hosts`` only."""
    for host in lab.addresses:
        lab.host_vars(
            host,
            {
                "ansible_host_key_checking": True,
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts} -o IdentitiesOnly=yes",
            },
        )
    try:
        return doctor(lab, "--check", "ssh")
    finally:
        lab.clear_host_vars()


def test_known_host_keys_recorded_at_boot(lab: LabInventory, tmp_path: Path) -> None:
    lines = []
    for host, address in lab.addresses.items():
        key = lab.state_dir / "hosts" / host / "merged" / "etc" / "ssh" / "ssh_host_ed25519_key.pub"
        kind, blob = key.read_text().split()[:2]
        lines.append(f"{address} {kind} {blob}")
    known = tmp_path / "known_hosts"
    known.write_text("\n".join(lines) + "\n")
    code, found = doctor_with_known_hosts(lab, known)
    assert code == 0, found
    assert {f["host"]: f["status"] for f in found["ssh"]} == {"server": "ok", "gpu": "ok"}
    assert all("host key known" in f["message"] for f in found["ssh"])


def test_unknown_host_key_fails_with_its_fix(lab: LabInventory, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    code, found = doctor_with_known_hosts(lab, known)
    assert code == 1
    assert {f["status"] for f in found["ssh"]} == {"fail"}
    for f in found["ssh"]:
        assert "host key not known" in f["message"]
        assert f["fix"].startswith(f"ssh-keyscan -t ed25519 {lab.addresses[f['host']]}")


def test_too_little_disk_fails(lab: LabInventory) -> None:
    lab.host_vars("gpu", {"shai_doctor_min_free_gb": 10_000_000})
    try:
        code, found = doctor(lab, "--check", "model-disk")
    finally:
        lab.clear_host_vars()
    assert code == 1
    assert {f["status"] for f in found["model-disk"]} == {"fail"}
    assert all("wanted" in f["message"] for f in found["model-disk"])


def _as_root(host: str, command: str) -> None:
    from shai.lab.lab import Lab, ssh_command

    state = Lab("doctor").state()
    assert state is not None
    done = subprocess.run(
        ssh_command(state, host, [command], batch=True), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_sudo_needs_a_password_then_not(lab: LabInventory) -> None:
    """A non-root ansible_user with become: sudo must not ask for a password."""
    _as_root(
        "gpu",
        "id doctor >/dev/null 2>&1 || useradd -m -s /bin/bash doctor;"
        " install -d -o doctor -m 700 ~doctor/.ssh;"
        " install -o doctor -m 600 /root/.ssh/authorized_keys ~doctor/.ssh/authorized_keys;"
        " rm -f /etc/sudoers.d/doctor",
    )
    lab.host_vars("gpu", {"ansible_user": "doctor", "ansible_become": True})
    try:
        code, found = doctor(lab, "--check", "ssh")
        gpu = next(f for f in found["ssh"] if f["host"] == "gpu")
        assert code == 1 and gpu["status"] == "fail", found
        assert "sudo -n true" in gpu["message"] and "NOPASSWD" in gpu["fix"]
        sudoers = "echo 'doctor ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/doctor"
        _as_root("gpu", f"{sudoers} && chmod 0440 /etc/sudoers.d/doctor")
        code, found = doctor(lab, "--check", "ssh")
        gpu = next(f for f in found["ssh"] if f["host"] == "gpu")
        assert gpu["status"] == "warn" and "passwordless sudo" in gpu["message"], found
    finally:
        lab.clear_host_vars()
