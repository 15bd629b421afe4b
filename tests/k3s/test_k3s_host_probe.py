"""The k3s preflight's one host probe (vectorweight.shai.host_probe) and what the role makes of it.

The module runs on this machine (localhost): a socket the test opens is seen listening, a module
that does not exist is neither loaded nor loadable, a sysctl is read as /proc/sys has it, the free
space of a directory not created yet is measured on its existing parent. Then the role's own
tasks (read from its task files, not copied) turn the probe into the facts configure.yml uses:
in check mode with k3s_sysctls_manage (the default) a sysctl that differs is reported, one that
matches is not.
"""

from __future__ import annotations

import os
import pwd
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from localplay import run_tasks

ROLE = Path(__file__).resolve().parents[2] / "roles" / "k3s"


def _tasks(file: str, *names: str) -> list[dict[str, Any]]:
    tasks = yaml.safe_load((ROLE / "tasks" / file).read_text())
    return [next(t for t in tasks if t["name"] == n) for n in names]


def test_probe_reads_the_host(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = {
            "service": "shai-no-such-unit.service",
            "kernel_modules": ["shai_no_such_module"],
            "modules_loadable": True,
            "sysctls": ["net.ipv4.ip_forward", "shai.no.such.key"],
            "listening": True,
            "time_sync": True,
            "free_space": str(tmp_path / "not" / "yet"),
            "paths": [str(tmp_path), str(tmp_path / "nope"), str(tmp_path / "file")],
        }
        (tmp_path / "file").write_text("x")
        tmp_path.chmod(0o751)
        r = run_tasks(
            tmp_path,
            [
                {"vectorweight.shai.host_probe": probe, "register": "p", "check_mode": True},
                {"ansible.builtin.set_fact": {"results": "{{ p }}"}},
            ],
        )
    assert r["changed"] is False
    assert f"{port}/tcp" in r["listening"]
    assert r["modules"] == {"shai_no_such_module": {"loaded": False, "loadable": False}}
    forward = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    assert r["sysctls"] == {"net.ipv4.ip_forward": forward, "shai.no.such.key": None}
    assert r["free_path"] == str(tmp_path) and r["free_kb"] > 0
    assert isinstance(r["service_state"], str) and r["service_state"] != "active"
    assert isinstance(r["ntp_synchronized"], str)
    assert r["paths"][str(tmp_path)] == {
        "exists": True,
        "isdir": True,
        "mode": "0751",
        "xoth": True,
        "pw_name": pwd.getpwuid(os.getuid()).pw_name,
    }
    assert r["paths"][str(tmp_path / "nope")]["exists"] is False
    assert r["paths"][str(tmp_path / "file")]["isdir"] is False


def test_role_reports_the_sysctls_that_differ(tmp_path: Path) -> None:
    forward = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    other = "0" if forward == "1" else "1"
    wanted = {"net.ipv4.ip_forward": other, "net.ipv4.conf.all.forwarding": forward}
    current_all = Path("/proc/sys/net/ipv4/conf/all/forwarding").read_text().strip()
    wanted["net.ipv4.conf.all.forwarding"] = current_all
    tasks = [
        {"ansible.builtin.set_fact": {"__k3s_sysctls_wanted": wanted}},
        *_tasks(
            "preflight.yml",
            "Preflight | probe the host",
            "Preflight | compute host facts for the checks",
            "Preflight | the sysctls that already have their wanted value",
        ),
        *_tasks("configure.yml", "Configure | report sysctls that a real run would set (check mode)"),
        {
            "ansible.builtin.set_fact": {
                "results": {
                    "match": "{{ __k3s_sysctl_match }}",
                    "not_loaded": "{{ __k3s_modules_not_loaded }}",
                }
            }
        },
    ]
    extra = {
        "__k3s_service_name": "shai-no-such-unit",
        "k3s_kernel_modules": ["shai_no_such_module"],
        "k3s_preflight_kernel_modules_required": True,
        "k3s_preflight_time_sync_policy": "ignore",
        "k3s_data_dir": str(tmp_path / "k3s"),
        "k3s_preflight_min_disk_gb": 1,
        "k3s_sysctls_manage": True,
    }
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(extra))
    r = run_tasks(tmp_path, tasks, "--check", "-e", f"@{tmp_path / 'vars.yml'}")
    assert list(r["match"]) == ["net.ipv4.conf.all.forwarding"]
    assert r["not_loaded"] == ["shai_no_such_module"]
