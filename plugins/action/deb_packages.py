# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of vectorweight.shai.deb_packages: the dpkg query on the host, apt only when needed."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

_APT_ARGS = ("update_cache", "cache_valid_time", "install_recommends")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("name",) + _APT_ARGS)

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        names = args.get("name")
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        # The query runs the module itself (read-only, also in check mode; it refuses an empty name).
        query = self._execute_module(
            module_name="vectorweight.shai.deb_packages", module_args={"name": names}, task_vars=task_vars
        )
        if query.get("failed"):
            result.update(query)
            return result
        installed, missing = query["installed"], query["missing"]
        if not missing:
            result.update(
                changed=False, installed=installed, missing=[], apt_ran=False,
                msg="all %d installed" % len(installed),
            )
            return result
        apt_args = {"name": names, "state": "present"}
        apt_args.update((k, args[k]) for k in _APT_ARGS if args.get(k) is not None)
        applied = self._execute_module(
            module_name="ansible.legacy.apt", module_args=apt_args, task_vars=task_vars
        )
        result.update(applied)
        result.update(installed=installed, missing=missing, apt_ran=True)
        return result
