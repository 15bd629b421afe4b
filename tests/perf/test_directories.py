"""vectorweight.shai.directories: many directories in one module run, check mode and diff truthful.

Runs the module through ansible-playbook on localhost (as the user running the tests; owner and
group are that user's, modes are what is checked) in a temporary directory.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from localplay import run_tasks

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


NAMES = ("check_first", "first", "second", "drift_check", "fixed", "notdir", "relative", "empty")


NAMES = ("check_first", "first", "second", "drift_check", "fixed", "notdir", "relative", "empty")


def _task(register: str, paths: list[Any], **extra: Any) -> dict[str, Any]:
    args = {"owner": USER, "group": GROUP, "mode": "0755", "paths": paths}
    return {"vectorweight.shai.directories": args, "register": register, **extra}


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_create_correct_and_report(tmp_path: Path) -> None:
    base = tmp_path / "d"
    paths: list[Any] = [str(base / "a"), {"path": str(base / "b" / "c"), "mode": "0750"}]
    (tmp_path / "plainfile").write_text("x")
    tasks = [
        _task("check_first", paths, check_mode=True, diff=True),
        _task("first", paths),
        _task("second", paths),
        {"ansible.builtin.file": {"path": str(base / "a"), "mode": "0700"}},
        _task("drift_check", paths, check_mode=True, diff=True),
        _task("fixed", paths),
        _task("notdir", [str(tmp_path / "plainfile")], ignore_errors=True),
        _task("relative", ["rel/path"], ignore_errors=True),
        _task("empty", [], ignore_errors=True),
        {"ansible.builtin.set_fact": {"results": {k: "{{ " + k + " }}" for k in NAMES}}},
    ]
    r = run_tasks(tmp_path, tasks)
    # check mode: everything reported, nothing made
    assert r["check_first"]["changed"] is True
    assert r["check_first"]["created"] == [str(base), str(base / "a"), str(base / "b"), str(base / "b" / "c")]
    assert r["check_first"]["diff"][0]["after"]["state"] == "directory"
    # the real run made them, parents with the entry's mode
    assert r["first"]["changed_paths"] == [str(base / "a"), str(base / "b" / "c")]
    assert _mode(base / "b") == "0o750" and _mode(base / "b" / "c") == "0o750"
    # converged: nothing to do
    assert r["second"]["changed"] is False and r["second"]["changed_paths"] == []
    # a mode changed behind its back is reported (with its diff) in check mode, then fixed
    assert r["drift_check"]["changed_paths"] == [str(base / "a")]
    assert r["drift_check"]["diff"][0]["before"]["mode"] == "0700"
    assert r["fixed"]["changed_paths"] == [str(base / "a")] and _mode(base / "a") == "0o755"
    # errors name the path and change nothing
    assert r["notdir"]["failed"] is True and "plainfile exists and is not a directory" in r["notdir"]["msg"]
    assert r["relative"]["failed"] is True and "not an absolute path: rel/path" in r["relative"]["msg"]
    assert r["empty"]["failed"] is True and "paths is empty" in r["empty"]["msg"]


def test_an_entry_created_as_an_earlier_entrys_parent_gets_its_own_attributes(tmp_path: Path) -> None:
    # ollama's shape: the missing parents of the models directory (0755) come first, then the
    # home, which is one of those parents, with its own mode; the real run must apply it.
    home = tmp_path / "var" / "lib" / "ollama"
    paths: list[Any] = [str(home / "models" / "x"), {"path": str(home), "mode": "0750"}]
    tasks = [
        _task("check_first", paths, check_mode=True),
        _task("first", paths),
        _task("second", paths),
        {
            "ansible.builtin.set_fact": {
                "results": {k: "{{ " + k + " }}" for k in ("check_first", "first", "second")}
            }
        },
    ]
    r = run_tasks(tmp_path, tasks)
    assert _mode(home) == "0o750"
    assert (
        r["check_first"]["changed_paths"]
        == r["first"]["changed_paths"]
        == [str(home / "models" / "x"), str(home)]
    )
    assert r["second"]["changed"] is False
