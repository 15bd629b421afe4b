"""The lan_firewall ruleset: rendered from the role and checked by the kernel with `nft -c -f`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import render


def _nft_check_works(tmp_path: Path) -> bool:
    if shutil.which("nft") is None:
        return False
    probe = tmp_path / "probe.nft"
    probe.write_text("table inet shai_probe {\n}\n")
    return subprocess.run(["nft", "-c", "-f", str(probe)], capture_output=True, check=False).returncode == 0


def test_ruleset_renders_and_validates(cpu_tree: Path, tmp_path: Path) -> None:
    rules = cpu_tree / "etc/nftables.d/shai_lan.nft"
    text = rules.read_text()
    assert text.startswith("#\n# Ansible managed") or text.startswith("#")
    assert "table inet shai_lan\ndelete table inet shai_lan\n" in text
    assert "elements = { 192.0.2.170/32, 10.42.0.0/16 }" in text
    assert "elements = { 2001:db8::/64 }" in text
    assert "tcp dport { 11434, 8188 } drop" in text
    assert "22" not in text.split("chain input")[1]
    unit = (cpu_tree / "etc/systemd/system/shai-lan-firewall.service").read_text()
    assert "ExecReload=/usr/sbin/nft -f /etc/nftables.d/shai_lan.nft" in unit
    if not _nft_check_works(tmp_path):
        pytest.skip("nft -c needs nftables and CAP_NET_ADMIN")
    proc = subprocess.run(["nft", "-c", "-f", str(rules)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_reject_and_log_variant_validates(tmp_path: Path) -> None:
    render(tmp_path, False, lan_firewall_action="reject", lan_firewall_log=True)
    rules = tmp_path / "etc/nftables.d/shai_lan.nft"
    text = rules.read_text()
    assert "reject with tcp reset" in text and 'log prefix "shai_lan drop: "' in text
    if not _nft_check_works(tmp_path):
        pytest.skip("nft -c needs nftables and CAP_NET_ADMIN")
    proc = subprocess.run(["nft", "-c", "-f", str(rules)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
