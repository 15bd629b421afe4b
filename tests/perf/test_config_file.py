"""vectorweight.shai.config_file: one module run per file, the same bytes as the template module.

Runs through ansible-playbook on localhost in a temporary directory: a template rendered by
``lookup('ansible.builtin.template')`` into config_file gives the file ansible.builtin.template
writes; a converged file changes nothing; check mode and diff tell the truth; a failing
validation keeps the old file.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from localplay import run_tasks

NAMES = ("first", "again", "check", "changed", "attrs", "invalid")


def _cf(register: str, dest: Path, content: str, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"dest": str(dest), "content": content, "mode": "0640"}
    args.update(extra.pop("args", {}))
    return {"vectorweight.shai.config_file": args, "register": register, **extra}


def test_config_file(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text(
        "{{ ansible_managed | comment }}\nkey={{ 40 + 2 }}\n{% if true %}\nx\n{% endif %}\n\n"
    )
    ref, dest = tmp_path / "by_template", tmp_path / "by_config_file"
    rendered = "{{ lookup('ansible.builtin.template', 't.j2') }}"
    tasks = [
        {"ansible.builtin.template": {"src": "t.j2", "dest": str(ref), "mode": "0640"}},
        _cf("first", dest, rendered),
        _cf("again", dest, rendered),
        _cf("check", dest, "new\n", check_mode=True, diff=True),
        _cf("changed", dest, "new\n", diff=True),
        {"ansible.builtin.file": {"path": str(dest), "mode": "0600"}},
        _cf("attrs", dest, "new\n", diff=True),
        _cf("invalid", dest, "bad\n", args={"validate": "grep -q good %s"}, ignore_errors=True),
        {"ansible.builtin.set_fact": {"results": {k: "{{ " + k + " }}" for k in NAMES}}},
    ]
    r = run_tasks(tmp_path, tasks)
    assert dest.read_text() == "new\n"
    assert r["first"]["changed"] is True and r["again"]["changed"] is False
    assert r["first"]["checksum"] == r["again"]["checksum"]
    # check mode: reported with the diff, the file untouched until the real run
    assert r["check"]["changed"] is True and r["check"]["diff"][-1]["after"] == "new\n"
    assert "key=42" in r["check"]["diff"][-1]["before"]
    assert r["changed"]["changed"] is True and r["changed"]["content_changed"] is True
    # only the mode drifted: corrected, content untouched
    assert r["attrs"]["changed"] is True and r["attrs"]["content_changed"] is False
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    assert r["invalid"]["failed"] is True and "failed validation" in r["invalid"]["msg"]
    assert not list(tmp_path.glob(".*.shai-tmp")), "a temporary file was left behind"


def test_same_bytes_as_the_template_module(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ ansible_managed | comment }}\na={{ 1 }}\n\n\n")
    ref, dest = tmp_path / "ref", tmp_path / "dest"
    tasks = [
        {"ansible.builtin.template": {"src": "t.j2", "dest": str(ref)}},
        _cf("first", dest, "{{ lookup('ansible.builtin.template', 't.j2') }}"),
        {"ansible.builtin.set_fact": {"results": {"first": "{{ first }}"}}},
    ]
    run_tasks(tmp_path, tasks)
    assert dest.read_bytes() == ref.read_bytes()


def test_directory_options_create_and_correct_the_directory(tmp_path: Path) -> None:
    dest = tmp_path / "conf.d" / "sub" / "x.conf"
    d = {"args": {"directory_mode": "0750"}}
    tasks = [
        _cf("check", dest, "a\n", check_mode=True, diff=True, **d),
        _cf("first", dest, "a\n", **d),
        _cf("again", dest, "a\n", **d),
        {"ansible.builtin.file": {"path": str(dest.parent), "mode": "0755"}},
        _cf("fixed", dest, "a\n", diff=True, **d),
        {
            "ansible.builtin.set_fact": {
                "results": {k: "{{ " + k + " }}" for k in ("check", "first", "again", "fixed")}
            }
        },
    ]
    r = run_tasks(tmp_path, tasks)
    assert r["check"]["changed"] is True
    assert r["check"]["diff"][0]["after"]["state"] == "directory" and r["check"]["diff"][-1]["after"] == "a\n"
    assert r["first"]["changed"] is True and r["again"]["changed"] is False
    assert stat.S_IMODE((tmp_path / "conf.d").stat().st_mode) == 0o750  # a missing parent too
    assert r["fixed"]["changed"] is True and r["fixed"]["content_changed"] is False
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o750


def test_a_line_appended_by_hand_shows_in_the_diff(tmp_path: Path) -> None:
    """The drift matrix's edit-sudoers case: the old file contains the whole new content."""
    dest = tmp_path / "sudoers-like"
    tasks = [
        _cf("first", dest, "root ALL=(ALL) ALL\n"),
        {"ansible.builtin.shell": f"echo '# hand edit' >> {dest}"},
        _cf("drift", dest, "root ALL=(ALL) ALL\n", check_mode=True, diff=True),
        {"ansible.builtin.set_fact": {"results": {"drift": "{{ drift }}"}}},
    ]
    r = run_tasks(tmp_path, tasks)
    assert r["drift"]["changed"] is True
    assert r["drift"]["diff"][-1]["before"] == "root ALL=(ALL) ALL\n# hand edit\n"
    assert r["drift"]["diff"][-1]["after"] == "root ALL=(ALL) ALL\n"
