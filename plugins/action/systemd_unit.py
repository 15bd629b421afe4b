# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of vectorweight.shai.systemd_unit: one systemctl show, systemd_service only when needed."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.vectorweight.shai.plugins.module_utils.systemd_unit import satisfied


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("name", "enabled", "state", "daemon_reload"))

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        query = self._execute_module(
            module_name="vectorweight.shai.systemd_unit", module_args=args, task_vars=task_vars
        )
        if query.get("failed"):
            result.update(query)
            return result
        enabled = args.get("enabled")
        enabled = None if enabled is None else boolean(enabled, strict=True)
        if satisfied(query["unit"], enabled=enabled, state=args.get("state")):
            result.update(changed=False, unit=query["unit"], systemd_service_ran=False, name=args["name"])
            return result
        applied = self._execute_module(
            module_name="ansible.legacy.systemd_service", module_args=args, task_vars=task_vars
        )
        result.update(applied)
        result.update(unit=query["unit"], systemd_service_ran=True)
        return result
