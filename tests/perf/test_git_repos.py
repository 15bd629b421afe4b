"""vectorweight.shai.git_repos: git_server's root, bare repositories, settings, export markers and
safe.directory entries in one module run; check mode and diff truthful; history never touched.

Runs the module through ansible-playbook on localhost (owner and group are the test user's) in a
temporary directory; GIT_CONFIG_SYSTEM points git's system config at a file of the test's.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from localplay import run_tasks

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
SETTINGS = ["receive.denyNonFastForwards", "receive.denyDeletes"]
NAMES = ("check_first", "first", "second", "drift_check", "fixed", "again", "bad", "empty")


def _task(register: str, root: Path, names: list[str], **extra: Any) -> dict[str, Any]:
    args = {"root": str(root), "names": names, "owner": USER, "group": GROUP, "receive_settings": SETTINGS}
    return {"vectorweight.shai.git_repos": args, "register": register, **extra}


def _git(*argv: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *argv], check=True, capture_output=True, text=True, env=env).stdout.strip()


def test_create_keep_and_repair(tmp_path: Path) -> None:
    root = tmp_path / "srv" / "git"
    sysconf = tmp_path / "gitconfig"
    env = {"GIT_CONFIG_SYSTEM": str(sysconf)}
    repo = root / "platform.git"

    def step(register: str, names: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        return _task(
            register, root, ["platform", "extra"] if names is None else names, environment=env, **extra
        )

    first = run_tasks(
        tmp_path,
        [
            step("check_first", check_mode=True, diff=True),
            {"ansible.builtin.stat": {"path": str(root)}, "register": "root_after_check"},
            step("first"),
            step("second"),
            {
                "ansible.builtin.set_fact": {
                    "results": {k: "{{ " + k + " }}" for k in NAMES[:3]}
                    | {"root_after_check": "{{ root_after_check }}"}
                }
            },
        ],
    )
    # check mode: both repositories and every setting reported, nothing made
    assert first["check_first"]["changed"] is True
    assert first["check_first"]["created"] == [str(repo), str(root / "extra.git")]
    # exactly what the real run reports (git init --shared sets denyNonFastForwards itself)
    assert first["check_first"]["changes"] == first["first"]["changes"]
    assert f"{repo}: receive.denyDeletes=true" in first["first"]["changes"]
    assert first["check_first"]["diff"]
    assert first["root_after_check"]["stat"]["exists"] is False
    # the real run made them: bare, group-shared, settings, marker, safe.directory
    assert first["first"]["changed"] is True
    assert _git("--git-dir", str(repo), "config", "--bool", "core.bare") == "true"
    assert _git("--git-dir", str(repo), "config", "core.sharedRepository") in ("1", "group")
    for key in SETTINGS:
        assert _git("config", "--file", str(repo / "config"), "--get", key) == "true"
    assert (repo / "git-daemon-export-ok").read_bytes() == b""
    assert stat.S_IMODE(repo.stat().st_mode) == 0o2775
    assert stat.S_IMODE(root.stat().st_mode) == 0o2775
    listed = _git("config", "--file", str(sysconf), "--get-all", "safe.directory").splitlines()
    assert listed == [str(repo), str(root / "extra.git")]
    # converged: nothing to do
    assert first["second"]["changed"] is False
    assert first["second"]["changes"] == []

    # history in the repository survives; drift is reported exactly and repaired
    work = tmp_path / "work"
    _git("init", "--quiet", "--initial-branch=main", str(work))
    (work / "f").write_text("x")
    _git("-C", str(work), "add", "f")
    _git("-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one")
    _git("-C", str(work), "push", "--quiet", str(repo), "main")
    head = _git("--git-dir", str(repo), "rev-parse", "main")
    _git("config", "--file", str(repo / "config"), "receive.denyDeletes", "false")
    (repo / "git-daemon-export-ok").unlink()
    repo.chmod(0o700)
    second = run_tasks(
        tmp_path,
        [
            step("drift_check", check_mode=True, diff=True),
            step("fixed"),
            step("again"),
            step("bad", names=["../escape"], ignore_errors=True),
            step("empty", names=[], ignore_errors=True),
            {"ansible.builtin.set_fact": {"results": {k: "{{ " + k + " }}" for k in NAMES[3:]}}},
        ],
    )
    changes = second["drift_check"]["changes"]
    assert second["drift_check"]["created"] == []
    assert f"{repo}: owner/group/mode" in changes
    assert f"{repo}: receive.denyDeletes=true" in changes
    assert f"{repo}: git-daemon-export-ok" in changes
    assert len(changes) == 3, changes
    assert second["fixed"]["changed"] is True
    assert second["again"]["changed"] is False
    assert _git("--git-dir", str(repo), "rev-parse", "main") == head
    assert _git("config", "--file", str(repo / "config"), "--get", "receive.denyDeletes") == "true"
    assert stat.S_IMODE(repo.stat().st_mode) == 0o2775
    assert second["bad"]["failed"] is True
    assert "../escape" in second["bad"]["msg"]
    assert not (tmp_path / "srv" / "escape.git").exists()
    assert second["empty"]["failed"] is True
    assert "names is empty" in second["empty"]["msg"]
