# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a systemd unit already is what a systemd_service task asks for (the systemd_unit action).

Deliberately narrow: only the plain answers count as "nothing to do" (loaded, exactly ``enabled``
or ``disabled``, exactly ``active`` or ``inactive``, no pending daemon-reload); anything else
(static units, activating, failed, masked, a restart or reload asked for) goes to
ansible.builtin.systemd_service, which stays the judge.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PROPERTIES = ("LoadState", "ActiveState", "UnitFileState", "NeedDaemonReload")


def parse_show(out):
    """``systemctl show --property=...`` output as a dict."""
    props = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def satisfied(props, enabled=None, state=None):
    """True when systemd_service with these arguments would change nothing.

    No daemon_reload argument: systemd itself says whether this unit needs one (NeedDaemonReload).
    """
    if props.get("LoadState") != "loaded" or props.get("NeedDaemonReload") != "no":
        return False
    if state not in (None, "started", "stopped"):
        return False  # restarted/reloaded always act
    if enabled is not None and props.get("UnitFileState") != ("enabled" if enabled else "disabled"):
        return False
    if state == "started" and props.get("ActiveState") != "active":
        return False
    if state == "stopped" and props.get("ActiveState") != "inactive":
        return False
    return True
