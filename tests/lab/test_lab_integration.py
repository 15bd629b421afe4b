"""The real lab: up -> ssh -> apt through the proxy -> mirror -> down leaves nothing behind.

Needs root, systemd-nspawn and Debian's archive (the first run builds the base rootfs).
Run with: pytest -m lab tests/lab
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from shai.lab import inventory as inv
from shai.lab.lab import Lab, Paths, ssh_command
from shai.lab.system import System

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("systemd-nspawn") is None, reason="needs root and systemd-nspawn"
    ),
]


def _ssh(lab: Lab, host: str, command: str) -> subprocess.CompletedProcess[str]:
    state = lab.state()
    assert state is not None
    return subprocess.run(
        ssh_command(state, host, [command], batch=True),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_up_ssh_proxy_mirror_down(tmp_path: Path) -> None:
    paths = Paths()
    name = "itest"
    lab = Lab(name, paths)
    marker = f"shai-lab-itest-{uuid.uuid4().hex}"
    (paths.mirror).mkdir(parents=True, exist_ok=True)
    mirror_file = paths.mirror / f"{marker}.txt"
    mirror_file.write_text(marker)
    try:
        state = lab.up([inv.parse_host_spec("one:k3s_server"), inv.parse_host_spec("two:gpu_workstation")])
        inventory = yaml.safe_load(Path(state.inventory).read_text())
        assert inv.host_addresses(inventory) == {h.name: h.address for h in state.hosts}
        assert inventory["all"]["vars"]["shai_lab_mirror_url"] == state.mirror_url

        who = _ssh(lab, "one", "hostname && systemctl is-system-running --wait")
        assert who.stdout.split()[:2] == ["one", "running"], who

        peer = _ssh(lab, "one", "getent hosts two && timeout 5 bash -c '</dev/tcp/two/22' && echo reach")
        assert "reach" in peer.stdout, peer

        # No route out: only the lab subnet is reachable from a host.
        routes = _ssh(lab, "one", "ip -4 route")
        assert "default" not in routes.stdout
        assert routes.stdout.strip().startswith(state.subnet), routes

        apt = _ssh(lab, "two", "apt-get update -q")
        assert apt.returncode == 0, apt.stdout + apt.stderr

        # PyPI over https through the proxy, with the system trust store (no extra flags).
        pypi = _ssh(
            lab,
            "two",
            'python3 -c "import urllib.request as u; '
            "print(u.urlopen('https://pypi.org/simple/pip/', timeout=60).status)\"",
        )
        assert pypi.stdout.strip() == "200", pypi
        # The proxy refuses any other domain itself (it never connects): 403 from tinyproxy.
        refused = _ssh(lab, "two", "curl -sS -o /dev/null -w '%{http_code}' http://example.com/")
        assert refused.stdout == "403", refused
        # And no direct route out.
        direct = _ssh(lab, "two", "curl -sS -m 5 --noproxy '*' -o /dev/null http://1.1.1.1/")
        assert direct.returncode != 0, direct

        fetched = _ssh(lab, "two", f"curl -fsS --noproxy '*' {state.mirror_url}/{marker}.txt")
        assert fetched.stdout == marker, fetched
    finally:
        lab.down()
        mirror_file.unlink(missing_ok=True)
    left = lab.leftovers()
    assert left == {"processes": [], "mounts": [], "links": []}
    assert not lab.state_dir.exists()
    assert System().pids_matching(str(lab.state_dir)) == []
    assert lab.down() == []  # twice is fine


def test_recovers_from_a_killed_up() -> None:
    """SIGKILL `shai lab up` mid-boot (what CI sees after a session is killed), then `up` again."""
    name = "itest-killed"
    lab = Lab(name)
    shai = Path(sys.executable).parent / "shai"
    proc = subprocess.Popen(
        [str(shai), "lab", "up", "--name", name, "--host", "a"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:  # wait until a host is booting
            state = lab.state()
            if state and state.hosts and state.hosts[0].pid:
                break
            assert proc.poll() is None, "up finished before it could be killed"
            time.sleep(0.2)
        proc.kill()
        proc.wait()
        left = lab.leftovers()
        assert left["processes"] and left["mounts"] and left["links"], left
        state = lab.up([inv.parse_host_spec("a")])
        ok = _ssh(lab, "a", "true")
        assert ok.returncode == 0, ok
    finally:
        if proc.poll() is None:
            proc.kill()
        lab.down()
    assert lab.leftovers() == {"processes": [], "mounts": [], "links": []}
    assert not lab.state_dir.exists()
