#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: systemd_unit
short_description: Keep a systemd unit enabled/started, asking systemd before acting
version_added: 0.1.0
description:
  - The arguments of M(ansible.builtin.systemd_service) for the common case (O(name),
    O(enabled), O(state), O(daemon_reload)). One C(systemctl show) first reads the unit's load,
    active and unit-file state and whether it needs a daemon-reload; when that already is what
    the task asks for, nothing else runs. Otherwise M(ansible.builtin.systemd_service) runs with
    the same arguments and its result is the task's.
  - A converged host pays one light module run instead of the systemd_service module, which
    queries systemd several times and, with O(daemon_reload), reloads systemd on every run.
  - Only plain answers count as converged (loaded; exactly C(enabled)/C(disabled); exactly
    C(active)/C(inactive); no pending daemon-reload); any other state, and O(state=restarted) or
    O(state=reloaded), goes to M(ansible.builtin.systemd_service).
  - An action plugin of the same name decides on the controller; the module run on the host is
    the read-only query.
author:
  - vectorweight (@vectorweight)
options:
  name:
    description: The unit (C(ollama.service), C(shai-drift.timer); no suffix means C(.service)).
    type: str
    required: true
  enabled:
    description: Whether the unit starts at boot. Unset leaves it.
    type: bool
  state:
    description: C(started), C(stopped), C(restarted) or C(reloaded). Unset leaves it.
    type: str
    choices: [started, stopped, restarted, reloaded]
  daemon_reload:
    description:
      - Reload systemd's configuration before acting, when systemd_service runs. A unit whose
        files changed on disk reports C(NeedDaemonReload=yes), which always sends the task to
        systemd_service.
    type: bool
    default: false
attributes:
  action:
    support: full
    description: The controller-side action plugin decides whether systemd_service runs.
  check_mode:
    support: full
    description: The query reads only; systemd_service runs in check mode when needed.
  diff_mode:
    support: none
    description: systemd_service has no diff either.
  platform:
    support: full
    platforms: posix
    description: Hosts running systemd.
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Enable and start ollama
  vectorweight.shai.systemd_unit:
    name: ollama.service
    enabled: true
    state: started
    daemon_reload: true
"""

RETURN = r"""
unit:
  description: The unit's LoadState, ActiveState, UnitFileState and NeedDaemonReload before the task.
  returned: always
  type: dict
  sample: {LoadState: loaded, ActiveState: active, UnitFileState: enabled, NeedDaemonReload: "no"}
systemd_service_ran:
  description: Whether ansible.builtin.systemd_service ran (its result keys are then the task's too).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vectorweight.shai.plugins.module_utils.systemd_unit import PROPERTIES, parse_show


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            enabled=dict(type="bool"),
            state=dict(type="str", choices=["started", "stopped", "restarted", "reloaded"]),
            daemon_reload=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    rc, out, err = module.run_command(
        ["systemctl", "show", "--property=" + ",".join(PROPERTIES), "--", module.params["name"]]
    )
    unit = parse_show(out) if rc == 0 else {"error": (err or out).strip()}
    module.exit_json(changed=False, unit=unit, systemd_service_ran=False)


if __name__ == "__main__":
    main()
