"""vectorweight.shai.deb_packages: dpkg answers for installed packages, apt decides the rest.

Runs the collection's action plugin + module through ansible-playbook on this Debian controller
(localhost, the system python3 with python3-apt): nothing is installed (the missing package does
not exist, so apt is proven to run by its own "no package matching" answer; check mode elsewhere).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.modules.deb_packages import parse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from localplay import run_tasks

ABSENT = "shai-no-such-package-xyz"

pytestmark = pytest.mark.skipif(not Path("/usr/bin/dpkg-query").exists(), reason="needs dpkg")


def test_installed_packages_never_reach_apt(tmp_path: Path) -> None:
    tasks: list[dict[str, Any]] = [
        {"vectorweight.shai.deb_packages": {"name": ["dpkg", "coreutils"]}, "register": "plain"},
        {"vectorweight.shai.deb_packages": {"name": ["dpkg"]}, "register": "check", "check_mode": True},
        {
            "vectorweight.shai.deb_packages": {"name": ["dpkg", ABSENT]},
            "register": "absent",
            "ignore_errors": True,
        },
        {
            "vectorweight.shai.deb_packages": {"name": ["dpkg=0.0-none"]},
            "register": "pinned",
            "ignore_errors": True,
            "check_mode": True,
        },
        {"vectorweight.shai.deb_packages": {"name": []}, "register": "empty", "ignore_errors": True},
        {
            "ansible.builtin.set_fact": {
                "results": {
                    "plain": "{{ plain }}",
                    "check": "{{ check }}",
                    "absent": "{{ absent }}",
                    "pinned": "{{ pinned }}",
                    "empty": "{{ empty }}",
                }
            }
        },
    ]
    r = run_tasks(tmp_path, tasks)
    assert r["plain"]["changed"] is False and r["plain"]["apt_ran"] is False
    assert r["plain"]["installed"] == ["dpkg", "coreutils"] and r["plain"]["missing"] == []
    assert r["check"]["apt_ran"] is False and r["check"]["changed"] is False
    # dpkg does not know it: apt is asked, and apt's own failure is the task's result
    assert r["absent"]["apt_ran"] is True and r["absent"]["missing"] == [ABSENT]
    assert r["absent"]["failed"] is True and ABSENT in r["absent"]["msg"]
    # a version pin is never judged by dpkg alone
    assert r["pinned"]["apt_ran"] is True and r["pinned"]["missing"] == ["dpkg=0.0-none"]
    assert r["empty"]["failed"] is True and "name is empty" in r["empty"]["msg"]


def test_parse_reads_installed_names_only() -> None:
    out = "installed dpkg\nconfig-files oldpkg\nnot-installed\ninstalled libc6:amd64\n"
    assert parse(out) == {"dpkg", "libc6"}
