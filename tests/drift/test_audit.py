"""`shai drift audit`: how check mode treats command/shell tasks (shai.drift.audit)."""

from __future__ import annotations

from typing import Any

import pytest

from shai.drift.audit import audit, classify
from shai.drift.lab import ROOT

CASES: list[tuple[dict[str, Any], str]] = [
    ({"ansible.builtin.command": "true"}, "no-changed_when"),
    (
        {"ansible.builtin.command": "git config --get x", "changed_when": False, "check_mode": False},
        "guarded",
    ),
    (
        {"ansible.builtin.command": "git config x true", "changed_when": True, "check_mode": False},
        "runs-in-check-mode-and-may-change",
    ),
    (
        {
            "ansible.builtin.command": {"argv": "{{ ['kubectl', 'delete', 'x'] + __role_dry }}"},
            "changed_when": True,
            "check_mode": False,
        },
        "dry-run-in-check-mode",
    ),
    (
        {
            "ansible.builtin.command": "kubectl apply --dry-run=server -f x",
            "changed_when": True,
            "check_mode": False,
        },
        "dry-run-in-check-mode",
    ),
    (
        {
            "ansible.builtin.command": "git config x true",
            "changed_when": True,
            "when": "not ansible_check_mode",
        },
        "guarded",
    ),
    ({"ansible.builtin.command": {"cmd": "git init x", "creates": "x/HEAD"}}, "guarded"),
    ({"ansible.builtin.command": "sysctl -p", "changed_when": True}, "skipped-in-check-mode"),
    ({"ansible.builtin.debug": {"msg": "x"}}, ""),
]


@pytest.mark.parametrize(("task", "kind"), CASES)
def test_classify(task: dict[str, Any], kind: str) -> None:
    result = classify(task)
    assert (result[0] if result else "") == kind


def test_git_server_and_base_handlers_have_no_blind_spot() -> None:
    """The check-mode twins: nothing in these files is skipped in check mode any more."""
    findings = [
        f
        for f in audit(ROOT)
        if f.path.startswith(("roles/git_server/", "roles/base/")) and f.severity != "OK"
    ]
    assert findings == []
