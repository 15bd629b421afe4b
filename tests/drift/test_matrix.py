"""The drift correctness matrix on real lab hosts (systemd-nspawn Debian 12, `shai lab`).

1. converge site.yml on a fresh lab host, then the drift run must report 0 changes;
2. for each hand-made drift: the drift run reports exactly the affected tasks with a correct diff
   (exit 2), and a real converge afterwards changes exactly those tasks (handlers included);
3. after the matrix the drift run is clean again.

The host is in no platform group but `shai_control`, so site.yml applies the plays that target
`all` (base) and the drift schedule (drift_schedule, with the TEST DOUBLE of `shai` that the
molecule scenario's prepare.yml installs: Debian 12 has no Python 3.12 for the real one).
Keep the lab for debugging with SHAI_KEEP_LAB=1; SHAI_DRIFT_LAB_NAME names the lab.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from shai.drift.lab import ROOT, DriftLab, changed_tasks

pytestmark = [pytest.mark.lab, pytest.mark.slow]

HOST = "drifthost"


@dataclass
class Case:
    name: str
    command: str
    # (role, task name prefix, handler) of every task the drift must show, nothing else
    expect: list[tuple[str, str, bool]]
    diff_contains: list[str] = field(default_factory=list)


CASES = [
    Case(
        "edit-config-file",
        "sed -i 's/^SystemMaxUse=.*/SystemMaxUse=9G/' /etc/systemd/journald.conf.d/60-shai.conf",
        [("base", "Journald | Configure journald limits", False), ("base", "Restart systemd-journald", True)],
        ["-SystemMaxUse=9G", "+SystemMaxUse=500M"],
    ),
    Case(
        "change-file-mode",
        "chmod 0755 ~shai/.ssh",
        [("base", "Users | Create the administrator's .ssh directory", False)],
        ['-  "mode": "0755"', '+  "mode": "0700"'],
    ),
    Case(
        "remove-package",
        "DEBIAN_FRONTEND=noninteractive apt-get remove -y jq",
        [("base", "Packages | Install the base package set", False)],
        ["jq"],
    ),
    Case(
        # systemd_service returns no diff: the report must still name the task
        "disable-service",
        "systemctl disable systemd-timesyncd",
        [("base", "Timesync | Enable systemd-timesyncd", False)],
    ),
    Case(
        "stop-service",
        "systemctl stop shai-drift.timer",
        [("drift_schedule", "Service | Enable and start the drift timer", False)],
    ),
    Case(
        "edit-unit-file",
        "sed -i 's/^Nice=10/Nice=0/' /etc/systemd/system/shai-drift.service && systemctl daemon-reload",
        # the "Reload systemd" handler (daemon_reload only) reports ok in both modes
        [("drift_schedule", "Configure | Install the drift service unit", False)],
        ["-Nice=0", "+Nice=10"],
    ),
    Case(
        "edit-sudoers",
        "echo '# hand edit' >> /etc/sudoers.d/60-shai-admin",
        [("base", "Users | Allow the administrator to use sudo", False)],
        ["-# hand edit"],
    ),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DriftLab]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (systemd-nspawn, bridges)")
    name = os.environ.get("SHAI_DRIFT_LAB_NAME", "drift-matrix")
    lab = DriftLab(name, [f"{HOST}:drift_lab,shai_control"], tmp_path_factory.mktemp("drift-matrix"))
    lab.up()
    try:
        prepared = lab.playbook(ROOT / "extensions" / "molecule" / "drift_schedule" / "prepare.yml")
        assert prepared.returncode == 0, prepared.stdout[-3000:] + prepared.stderr[-3000:]
        first = lab.converge("initial")
        assert first.code == 0, first.output[-5000:]
        yield lab
    finally:
        if not os.environ.get("SHAI_KEEP_LAB"):
            lab.down()


def _matches(actual: list[tuple[str, str, str, bool]], expect: list[tuple[str, str, bool]]) -> bool:
    if len(actual) != len(expect):
        return False
    remaining = list(actual)
    for role, prefix, handler in expect:
        hit = [a for a in remaining if a[1] == role and a[2].startswith(prefix) and a[3] == handler]
        if len(hit) != 1:
            return False
        remaining.remove(hit[0])
    return not remaining


def test_converged_lab_reports_no_drift(lab: DriftLab) -> None:
    run = lab.drift("converged")
    assert run.report["changes"] == [], [(c["task"], c["diff_text"]) for c in run.report["changes"]]
    assert run.report["errors"] == [] and run.report["fatal"] == [], run.output[-5000:]
    assert run.code == 0 and run.report["status"] == "clean"
    assert run.report["hosts"][HOST]["ok"] > 5


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hand_made_drift(lab: DriftLab, case: Case) -> None:
    made = lab.ssh(HOST, case.command)
    assert made.returncode == 0, made.stdout + made.stderr
    check = lab.drift(case.name)
    predicted = changed_tasks(check.report)
    assert check.report["errors"] == [], check.output[-5000:]
    assert _matches(predicted, case.expect), f"drift run reported {predicted}, expected {case.expect}"
    assert check.code == 2
    diff = "\n".join(c["diff_text"] for c in check.report["changes"])
    for needle in case.diff_contains:
        assert needle in diff, f"{needle!r} not in the diff:\n{diff}"
    real = lab.converge(case.name)
    assert real.code == 0, real.output[-5000:]
    assert changed_tasks(real.report) == predicted, "the real run changed something the check did not predict"


def test_lab_is_clean_after_the_matrix(lab: DriftLab) -> None:
    run = lab.drift("final")
    assert run.code == 0 and run.report["changes"] == [], [c["task"] for c in run.report["changes"]]
