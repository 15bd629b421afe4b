"""vectorweight.shai.systemd_unit's decision: only the plain converged answers skip systemd_service.

The module's query and the action run against real systemd in the lab (every molecule scenario
and `make lab` start their services through it); this machine has no systemd, so here the
decision itself is checked against the states systemd reports.
"""

from __future__ import annotations

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils.systemd_unit import parse_show, satisfied

RUNNING = parse_show("LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n")


def _with(**changes: str) -> dict[str, str]:
    return {**RUNNING, **changes}


def test_converged_unit_needs_nothing() -> None:
    assert satisfied(RUNNING, enabled=True, state="started")
    assert satisfied(RUNNING, enabled=True)  # state left alone (a container's timesyncd)
    assert satisfied(_with(ActiveState="inactive", UnitFileState="disabled"), enabled=False, state="stopped")


@pytest.mark.parametrize(
    ("props", "kwargs"),
    [
        (_with(NeedDaemonReload="yes"), {"enabled": True, "state": "started"}),  # unit file changed
        (_with(LoadState="not-found"), {"enabled": True, "state": "started"}),  # first install
        (_with(LoadState="masked"), {"state": "started"}),
        (_with(ActiveState="inactive"), {"state": "started"}),
        (_with(ActiveState="activating"), {"state": "started"}),
        (_with(ActiveState="failed"), {"state": "stopped"}),
        (_with(UnitFileState="disabled"), {"enabled": True}),
        (_with(UnitFileState="static"), {"enabled": True}),
        (_with(UnitFileState="enabled"), {"enabled": False}),
        (RUNNING, {"state": "restarted"}),
        (RUNNING, {"state": "reloaded"}),
        ({}, {"state": "started"}),  # systemctl show answered nothing usable
    ],
)
def test_anything_else_goes_to_systemd_service(props: dict[str, str], kwargs: dict[str, object]) -> None:
    assert not satisfied(props, **kwargs)  # type: ignore[arg-type]
